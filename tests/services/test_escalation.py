"""统办: every step of the accept and resolve chains, 督办 and 派, each in the case log."""

from __future__ import annotations

from tests.services.replays import case_log, check_scenario


async def test_sla_chain_through_every_step(db_url: str) -> None:
    """Remind, secretary, workers for accepting and for resolving; nudges and dispatch logged."""
    await check_scenario("sla_chain", db_url)
    log = await case_log(db_url, 1)
    assert [action for action, _ in log] == [
        "filed",
        "assigned",
        "sla_reminded",
        "escalated",
        "escalated",
        "nudged",
        "dispatched",
        "accepted",
        "sla_reminded",
        "escalated",
        "escalated",
        "resolved",
    ]
    notes = [note for action, note in log if action == "escalated"]
    assert notes == [
        "accept:secretary:wxid_li",
        "accept:workers",
        "resolve:secretary:wxid_li",
        "resolve:workers",
    ]
    urgent = [action for action, _ in await case_log(db_url, 2)]
    assert urgent == [
        "filed",
        "assigned",
        "sla_reminded",
        "escalated",
        "escalated",
        "accepted",
        "resolved",
    ]
