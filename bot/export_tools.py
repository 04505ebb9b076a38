"""`jinlin export signups`: an activity's sign-ups as CSV that Excel opens (UTF-8 with BOM)."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_support import add_config_option
from bot.core.domain import SignupStatus
from storage.activities import ActivityRepository
from storage.models import Activity

HEADER = ["序号", "活动", "姓名", "人数", "状态", "来自群", "报名时间", "微信ID"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `export signups` to the `jinlin` command line."""
    p = sub.add_parser("export", help="export data as CSV")
    what = p.add_subparsers(dest="export_what", required=True)
    s = what.add_parser("signups", help="an activity's sign-ups (UTF-8 CSV with BOM, for Excel)")
    s.add_argument("--activity", required=True, help="activity id (or its exact title)")
    add_config_option(s)
    s.add_argument("--db", help="database URL (default: storage.url of the config)")
    s.add_argument("-o", "--output", help="CSV file to write (default: stdout)")
    s.set_defaults(func=_run_export_signups)


async def signups_csv(session: AsyncSession, activity: Activity, tz: ZoneInfo) -> str:
    """The sign-ups of an activity as CSV text (queue order, cancelled ones last)."""
    repo = ActivityRepository(session)
    rows = list(await repo.signups(activity.id))
    rows.sort(
        key=lambda s: (s.status == SignupStatus.WITHDRAWN, s.status != SignupStatus.CONFIRMED)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i, s in enumerate(rows, 1):
        writer.writerow(
            [
                i,
                activity.title,
                s.person_name,
                s.headcount,
                SignupStatus(s.status).label,
                s.room or "",
                s.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                s.person_id,
            ]
        )
    return out.getvalue()


async def find_activity(session: AsyncSession, ref: str) -> Activity | None:
    """An activity by id, else the latest one with exactly this title."""
    from sqlalchemy import select

    if ref.isdigit():
        return await ActivityRepository(session).get(int(ref))
    result = await session.execute(
        select(Activity).where(Activity.title == ref).order_by(Activity.starts_at.desc()).limit(1)
    )
    return result.scalar_one_or_none()


def _run_export_signups(args: argparse.Namespace) -> int:
    from bot.cli_support import load_or_exit, run_on_database
    from storage.engine import create_engine, session_factory

    cfg = load_or_exit(args.config)
    url = args.db or cfg.storage.url

    async def go() -> str | None:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                activity = await find_activity(session, args.activity)
                if activity is None:
                    return None
                return await signups_csv(session, activity, cfg.bot.tz)
        finally:
            await engine.dispose()

    text = run_on_database(go(), url)
    if text is None:
        from storage.engine import display_url

        print(
            f"{display_url(url)} 里没有活动 {args.activity!r}：请写活动的编号或完整的名称",
            file=sys.stderr,
        )
        return 2
    data = text.encode("utf-8-sig")  # the BOM tells Excel the file is UTF-8
    if args.output:
        with open(args.output, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0
