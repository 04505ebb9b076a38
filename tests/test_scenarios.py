"""The report path end to end through `replay`, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.support.replaying import run_scenario


@pytest.mark.parametrize(
    "name",
    [
        "report_path",  # report → head → 接单 → 办结 → 满意; chit-chat and thanks stay silent
        "refusal",  # others cannot take, close or transfer a case; unknown numbers
        "transfer",  # 转 to a building and to the secretary, 退回 without a reason
        "urgent",  # urgent cases go at once, also at night; non-urgent waits for morning
        "redelivery",  # a redelivered message id is ignored; unknown rooms are ignored
    ],
)
async def test_scenario(name: str, db_url: str) -> None:
    await run_scenario(name, db_url)
