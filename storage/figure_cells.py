"""The month's figures kept as sums, so a city's month is read from a few thousand rows.

`figure_months` holds, per compound, local month, kind and building, what storage.figures
adds up for the cases filed then (filed, taken, taken in time, resolved, rated, satisfied,
the sums of ratings and of times); `figure_days` holds, per compound and local day, reports
filed and resolved (the trend). Triggers on `cases` keep both in the transaction that changes
a case, whoever changes it (a handler, the console, a hand-written UPDATE): each subtracts
what the old row added and adds what the new row adds, one upsert per table, so a rating
after resolution, a reopening or an edit of the filing time all land where they belong, and
two processes adding to one row add up (the row lock of the upsert orders them).

The local day of an instant comes from `local_days` (the start of each day of the bot's
timezone, 2000-2069): SQLite knows no timezones, and a day with a clock change is simply
shorter or longer. `figure_zone` names the timezone the calendar and the sums were made for:
`ensure` (run at start, by `jinlin db upgrade` and by `jinlin demo-data`) rebuilds both from
the cases when it is missing or different, and until then the triggers add nothing (they find
no day) and storage.figures counts from the cases themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.core.domain import CaseKind, CaseStatus
from storage.models import FigureDay, FigureMonth, FigureZone, LocalDay

SATISFIED_FROM = 3  # 基本满意 and better
CALENDAR = (date(2000, 1, 1), date(2070, 1, 1))
REBUILD_CHUNK = 50_000  # cases summed per statement while rebuilding (a progress step)
MONTH_SUMS = (
    "filed",
    "taken",
    "timely",
    "resolved",
    "rated",
    "satisfied",
    "rating_sum",
    "take_us",
    "resolve_us",
)
DAY_SUMS = ("filed", "resolved")
TRIGGERS = ("figures_on_insert", "figures_on_update", "figures_on_delete")
# The columns a case's figures depend on: an update of anything else changes no sum.
WATCHED = (
    "kind",
    "compound",
    "building",
    "status",
    "created_at",
    "accepted_at",
    "accept_due_at",
    "resolved_at",
    "rating",
)
REPORT = CaseKind.REPORT.value
CLOSED = CaseStatus.CLOSED.value
RESOLVED = CaseStatus.RESOLVED.value


def _day(at: str) -> str:
    """SQL: the local day (YYYY-MM-DD) of an instant, or NULL outside the calendar."""
    return f"(SELECT day FROM local_days WHERE starts_at <= {at} ORDER BY starts_at DESC LIMIT 1)"


def _micros(dialect: str, a: str, b: str) -> str:
    """SQL: b - a in whole microseconds (SQLite's date functions count milliseconds)."""
    if dialect == "postgresql":
        return f"CAST(round(extract(epoch FROM {b} - {a}) * 1000000) AS BIGINT)"
    return f"CAST(round((julianday({b}) - julianday({a})) * 86400000.0) AS INTEGER) * 1000"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _counts(r: str) -> str:
    """SQL: the case `r` counts in the month's figures (reports closed undone do not)."""
    return f"({r}.kind != '{REPORT}' OR {r}.status != '{CLOSED}')"


def _month_values(dialect: str, r: str) -> list[str]:
    """SQL: what the case `r` adds to each of MONTH_SUMS of its month's row.

    The same definitions as storage.figures' direct SQL.
    """
    resolved = f"{r}.status = '{RESOLVED}'"
    in_time = (
        f"{r}.accepted_at IS NOT NULL AND {r}.accept_due_at IS NOT NULL "
        f"AND {r}.accepted_at <= {r}.accept_due_at"
    )
    take = _micros(dialect, f"{r}.created_at", f"{r}.accepted_at")
    resolve = _micros(dialect, f"{r}.created_at", f"{r}.resolved_at")
    return [
        "1",
        _flag(f"{r}.accepted_at IS NOT NULL"),
        _flag(in_time),
        _flag(resolved),
        _flag(f"{r}.rating IS NOT NULL"),
        _flag(f"{r}.rating >= {SATISFIED_FROM}"),
        f"coalesce({r}.rating, 0)",
        f"coalesce({take}, 0)",
        f"CASE WHEN {resolved} THEN coalesce({resolve}, 0) ELSE 0 END",
    ]


def _month_part(dialect: str, r: str, sign: str, source: str = "", where: str = "") -> str:
    """SQL: what the case `r` adds to its month's row, times `sign` (a SELECT of one row).

    `source` and `where` read the cases from a table instead of a trigger's row.
    """
    columns = [
        f"{r}.compound AS compound",
        f"substr({_day(r + '.created_at')}, 1, 7) AS month",
        f"{r}.kind AS kind",
        f"coalesce({r}.building, '') AS building",
        *(
            f"{sign} * ({value}) AS {name}"
            for value, name in zip(_month_values(dialect, r), MONTH_SUMS, strict=True)
        ),
    ]
    return f"SELECT {', '.join(columns)}{source} WHERE {where}{_counts(r)}"


def _day_parts(r: str, sign: str, source: str = "", where: str = "") -> list[str]:
    """SQL: what the report `r` adds to the days it was filed and resolved on."""
    return [
        f"SELECT {r}.compound AS compound, {_day(r + '.created_at')} AS day, "
        f"{sign} AS filed, 0 AS resolved{source} WHERE {where}{r}.kind = '{REPORT}'",
        f"SELECT {r}.compound AS compound, {_day(r + '.resolved_at')} AS day, "
        f"0 AS filed, {sign} AS resolved{source} "
        f"WHERE {where}{r}.kind = '{REPORT}' AND {r}.resolved_at IS NOT NULL",
    ]


def _upsert(table: str, keys: Sequence[str], sums: Sequence[str], parts: Sequence[str]) -> str:
    """SQL: add the parts, grouped by key, to `table`; groups that add nothing are skipped."""
    key_list = ", ".join(keys)
    totals = ", ".join(f"sum({s})" for s in sums)
    nonzero = " OR ".join(f"sum({s}) != 0" for s in sums)
    adds = ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in sums)
    return (
        f"INSERT INTO {table} ({key_list}, {', '.join(sums)}) "
        f"SELECT {key_list}, {totals} FROM ({' UNION ALL '.join(parts)}) AS part "
        f"WHERE {keys[1]} IS NOT NULL GROUP BY {key_list} HAVING {nonzero} "
        f"ON CONFLICT ({key_list}) DO UPDATE SET {adds}"
    )


def _statements(dialect: str, rows: Sequence[tuple[str, str]]) -> list[str]:
    """SQL: the two upserts that add each (row, sign) of a trigger to the sums."""
    months = [_month_part(dialect, r, sign) for r, sign in rows]
    days = [part for r, sign in rows for part in _day_parts(r, sign)]
    return [
        _upsert("figure_months", ("compound", "month", "kind", "building"), MONTH_SUMS, months),
        _upsert("figure_days", ("compound", "day"), DAY_SUMS, days),
    ]


_ROWS = {
    "figures_on_insert": (("NEW", "1"),),
    "figures_on_update": (("OLD", "-1"), ("NEW", "1")),
    "figures_on_delete": (("OLD", "-1"),),
}
_EVENTS = {
    "figures_on_insert": "INSERT",
    "figures_on_update": "UPDATE",
    "figures_on_delete": "DELETE",
}


def _pg_add_month(r: str, v: str, values: Sequence[str]) -> str:
    keys = f"{r}.compound, left({v}_day, 7), {r}.kind, coalesce({r}.building, '')"
    adds = ", ".join(f"{name} = figure_months.{name} + excluded.{name}" for name in MONTH_SUMS)
    sets = ", ".join(f"{n} = {n} + {value}" for n, value in zip(MONTH_SUMS, values, strict=True))
    # The row is there but for a month's first case: an UPDATE by key costs less than the
    # upsert's speculative insertion, which remains for a new row (and a race to make it).
    return (
        f"UPDATE figure_months SET {sets} WHERE compound = {r}.compound "
        f"AND month = left({v}_day, 7) AND kind = {r}.kind "
        f"AND building = coalesce({r}.building, ''); "
        "IF NOT FOUND THEN "
        f"INSERT INTO figure_months (compound, month, kind, building, {', '.join(MONTH_SUMS)}) "
        f"VALUES ({keys}, {', '.join(values)}) "
        f"ON CONFLICT (compound, month, kind, building) DO UPDATE SET {adds}; END IF;"
    )


def _pg_add_day(compound: str, day: str, filed: str, resolved: str) -> str:
    return (
        f"UPDATE figure_days SET filed = filed + {filed}, resolved = resolved + {resolved} "
        f"WHERE compound = {compound} AND day = {day}; "
        "IF NOT FOUND THEN "
        f"INSERT INTO figure_days (compound, day, filed, resolved) "
        f"VALUES ({compound}, {day}, {filed}, {resolved}) ON CONFLICT (compound, day) "
        "DO UPDATE SET filed = figure_days.filed + excluded.filed, "
        "resolved = figure_days.resolved + excluded.resolved; END IF;"
    )


def _pg_body(sides: Sequence[str]) -> str:
    """PL/pgSQL: the trigger's work, step by step, writing only the rows that change.

    The set-based statement SQLite runs costs PostgreSQL 0.5-1 ms a row in plan nodes; this
    does the same arithmetic in variables and then one small upsert per changed row.
    """
    declare: list[str] = []
    code: list[str] = []
    for r in sides:
        v = r[0].lower()  # o_..., n_...
        declare += [f"{v}_day text;", f"{v}_rday text;", f"{v}_counts boolean;"]
        declare += [f"{v}_{name} bigint := 0;" for name in MONTH_SUMS]
        if r == "NEW" and "OLD" in sides:
            code.append(
                f"n_day := CASE WHEN NEW.created_at = OLD.created_at THEN o_day "
                f"ELSE {_day('NEW.created_at')} END;"
            )
            rday = (
                "CASE WHEN NEW.resolved_at = OLD.resolved_at AND o_rday IS NOT NULL THEN o_rday "
                f"ELSE {_day('NEW.resolved_at')} END"
            )
        else:
            code.append(f"{v}_day := {_day(r + '.created_at')};")
            rday = _day(r + ".resolved_at")
        code.append(
            f"IF {r}.kind = '{REPORT}' AND {r}.resolved_at IS NOT NULL "
            f"THEN {v}_rday := {rday}; END IF;"
        )
        code.append(f"{v}_counts := {v}_day IS NOT NULL AND {_counts(r)};")
        code.append(f"IF {v}_counts THEN")
        code += [
            f"  {v}_{name} := {value};"
            for name, value in zip(MONTH_SUMS, _month_values("postgresql", r), strict=True)
        ]
        code.append("END IF;")
    minus = [f"-o_{name}" for name in MONTH_SUMS]
    plus = [f"n_{name}" for name in MONTH_SUMS]
    if sides == ("OLD", "NEW"):
        same_row = (
            "o_counts AND n_counts AND OLD.compound = NEW.compound AND OLD.kind = NEW.kind "
            "AND coalesce(OLD.building, '') = coalesce(NEW.building, '') "
            "AND left(o_day, 7) = left(n_day, 7)"
        )
        changed = " OR ".join(f"n_{name} <> o_{name}" for name in MONTH_SUMS)
        delta = [f"n_{name} - o_{name}" for name in MONTH_SUMS]
        code += [
            f"IF {same_row} THEN",
            f"  IF {changed} THEN {_pg_add_month('NEW', 'n', delta)} END IF;",
            "ELSE",
            f"  IF o_counts THEN {_pg_add_month('OLD', 'o', minus)} END IF;",
            f"  IF n_counts THEN {_pg_add_month('NEW', 'n', plus)} END IF;",
            "END IF;",
            "IF NOT (OLD.kind = NEW.kind AND OLD.compound = NEW.compound "
            "AND o_day IS NOT DISTINCT FROM n_day) THEN",
            f"  IF OLD.kind = '{REPORT}' AND o_day IS NOT NULL THEN "
            f"{_pg_add_day('OLD.compound', 'o_day', '-1', '0')} END IF;",
            f"  IF NEW.kind = '{REPORT}' AND n_day IS NOT NULL THEN "
            f"{_pg_add_day('NEW.compound', 'n_day', '1', '0')} END IF;",
            "END IF;",
            "IF NOT (OLD.compound = NEW.compound AND o_rday IS NOT DISTINCT FROM n_rday) THEN",
            f"  IF o_rday IS NOT NULL THEN "
            f"{_pg_add_day('OLD.compound', 'o_rday', '0', '-1')} END IF;",
            f"  IF n_rday IS NOT NULL THEN "
            f"{_pg_add_day('NEW.compound', 'n_rday', '0', '1')} END IF;",
            "END IF;",
        ]
    else:
        r = sides[0]
        v, sign = r[0].lower(), ("-1" if r == "OLD" else "1")
        code += [
            f"IF {v}_counts THEN {_pg_add_month(r, v, minus if r == 'OLD' else plus)} END IF;",
            f"IF {r}.kind = '{REPORT}' AND {v}_day IS NOT NULL THEN "
            f"{_pg_add_day(r + '.compound', v + '_day', sign, '0')} END IF;",
            f"IF {v}_rday IS NOT NULL THEN "
            f"{_pg_add_day(r + '.compound', v + '_rday', '0', sign)} END IF;",
        ]
    return "DECLARE\n" + "\n".join(declare) + "\nBEGIN\n" + "\n".join(code) + "\nRETURN NULL;\nEND"


_SIDES = {
    "figures_on_insert": ("NEW",),
    "figures_on_update": ("OLD", "NEW"),
    "figures_on_delete": ("OLD",),
}


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that create the triggers keeping the sums, for a SQL dialect."""
    out: list[str] = []
    for name in TRIGGERS:
        event = _EVENTS[name]
        if dialect == "postgresql":
            changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
            when = f" WHEN ({changed})" if event == "UPDATE" else ""
            out.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"{_pg_body(_SIDES[name])}\n$$"
            )
            out.append(
                f"CREATE TRIGGER {name} AFTER {event} ON cases FOR EACH ROW{when} "
                f"EXECUTE FUNCTION {name}()"
            )
        else:
            changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
            when = f" WHEN {changed}" if event == "UPDATE" else ""
            body = ";\n".join(_statements(dialect, _ROWS[name]))
            out.append(
                f"CREATE TRIGGER {name} AFTER {event} ON cases FOR EACH ROW{when} BEGIN\n"
                f"{body};\nEND"
            )
    return out


def drop_trigger_ddl(dialect: str) -> list[str]:
    """The statements that drop the triggers (and, on PostgreSQL, their functions)."""
    out = [
        f"DROP TRIGGER IF EXISTS {name}" + (" ON cases" if dialect == "postgresql" else "")
        for name in TRIGGERS
    ]
    if dialect == "postgresql":
        out += [f"DROP FUNCTION IF EXISTS {name}()" for name in TRIGGERS]
    return out


def _rebuild_statements(dialect: str) -> list[str]:
    """SQL: add the cases with ids in (:lo, :hi] to the sums (the triggers' parts, grouped)."""
    source, where = " FROM cases AS c", "c.id > :lo AND c.id <= :hi AND "
    return [
        _upsert(
            "figure_months",
            ("compound", "month", "kind", "building"),
            MONTH_SUMS,
            [_month_part(dialect, "c", "1", source, where)],
        ),
        _upsert("figure_days", ("compound", "day"), DAY_SUMS, _day_parts("c", "1", source, where)),
    ]


def local_days(zone: ZoneInfo) -> list[tuple[datetime, str]]:
    """Each day of the calendar and when it starts (naive UTC), as the console's days start."""
    out = []
    day, last = CALENDAR
    while day < last:
        first = datetime(day.year, day.month, 1)
        after = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1)
        offset = _offset(zone, first)
        # A local midnight made as bot.web.queries makes a month's days (the same instants);
        # a month with a clock change asks the zone day by day, the others add days.
        steady = offset == _offset(zone, after) == _offset(zone, after - _DAY)
        while day < last and day.month == first.month:
            midnight = datetime(day.year, day.month, day.day)
            out.append((midnight - (offset if steady else _offset(zone, midnight)), str(day)))
            day += _DAY
    return out


_DAY = timedelta(days=1)


def _offset(zone: ZoneInfo, local: datetime) -> timedelta:
    return zone.utcoffset(local) or timedelta(0)


@lru_cache(maxsize=4)
def _sqlite_calendar(zone: ZoneInfo) -> tuple[tuple[str, str], ...]:
    # Made once per process and zone: every fresh database (each test's) fills a calendar, and
    # making its 25,000 rows cost twice as much as inserting them.
    return tuple((start.isoformat(" ", "microseconds"), day) for start, day in local_days(zone))


async def _fill_calendar(conn: AsyncConnection, zone: ZoneInfo) -> None:
    if conn.dialect.name == "sqlite":
        # Straight to the driver, in the text SQLAlchemy stores (25,000 rows: 0.8 s -> 0.1 s).
        await conn.exec_driver_sql(
            "INSERT INTO local_days (starts_at, day) VALUES (?, ?)", list(_sqlite_calendar(zone))
        )
        return
    await conn.execute(
        insert(LocalDay),
        [{"starts_at": s.replace(tzinfo=UTC), "day": d} for s, d in local_days(zone)],
    )


Progress = Callable[[int, int], None]


async def zone_of(session: AsyncSession) -> str | None:
    """The timezone the sums were made for, or None while they are not made."""
    return (await session.execute(select(FigureZone.zone))).scalars().first()


async def ensure(engine: AsyncEngine, zone: ZoneInfo, progress: Progress | None = None) -> bool:
    """Make the calendar and the sums for `zone` unless they are made; True if it made them.

    One transaction: on PostgreSQL it locks the calendar and the sums first, so a second
    process waits and then finds them made, and a case changed meanwhile waits to add itself
    to the new sums.
    """
    async with engine.connect() as conn:
        if (await conn.execute(select(FigureZone.zone))).scalars().all() == [zone.key]:
            return False  # (the usual start: nothing to lock)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # The calendar even against reads: a trigger reading the old (or no) calendar
            # while the cases are summed would add a change to neither. Case writes that
            # fire the triggers wait here instead, and add themselves to the new sums.
            await conn.execute(text("LOCK TABLE local_days IN ACCESS EXCLUSIVE MODE"))
            await conn.execute(
                text("LOCK TABLE figure_zone, figure_months, figure_days IN EXCLUSIVE MODE")
            )
        if (await conn.execute(select(FigureZone.zone))).scalars().all() == [zone.key]:
            return False
        await _rebuild(conn, zone, progress)
        return True


async def _rebuild(conn: AsyncConnection, zone: ZoneInfo, progress: Progress | None) -> None:
    for table in (FigureZone, FigureMonth, FigureDay, LocalDay):
        await conn.execute(delete(table))
    await _fill_calendar(conn, zone)
    top = int((await conn.execute(text("SELECT coalesce(max(id), 0) FROM cases"))).scalar_one())
    statements = [text(sql) for sql in _rebuild_statements(conn.dialect.name)]
    for lo in range(0, top, REBUILD_CHUNK):
        for stmt in statements:
            await conn.execute(stmt, {"lo": lo, "hi": lo + REBUILD_CHUNK})
        if progress is not None:
            progress(min(lo + REBUILD_CHUNK, top), top)
    await conn.execute(insert(FigureZone).values(zone=zone.key))


async def month_rows(
    session: AsyncSession, compounds: Sequence[str], month: str
) -> list[tuple[Any, ...]]:
    """The month's rows of the compounds: compound, kind, building, then MONTH_SUMS."""
    stmt = text(
        f"SELECT compound, kind, building, {', '.join(MONTH_SUMS)} FROM figure_months "
        "WHERE compound IN :compounds AND month = :month"
    ).bindparams(bindparam("compounds", expanding=True))
    result = await session.execute(stmt, {"compounds": list(compounds), "month": month})
    return [tuple(row) for row in result.all()]


async def day_counts(
    session: AsyncSession, compounds: Sequence[str], first: str, last: str
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per compound, its days in [first, last) and the reports filed and resolved on each."""
    # One text per compound, not a row per day: a city's month is 22,000 days, and making a
    # row of each costs more than reading them (SQLite: 300 ms against 30 ms).
    concat = (
        "string_agg"
        if session.bind is not None and session.bind.dialect.name == "postgresql"
        else "group_concat"
    )
    stmt = text(
        f"SELECT compound, {concat}(day || ' ' || filed || ' ' || resolved, ',') "
        "FROM figure_days WHERE compound IN :compounds AND day >= :first AND day < :last "
        "GROUP BY compound"
    ).bindparams(bindparam("compounds", expanding=True))
    result = await session.execute(
        stmt, {"compounds": list(compounds), "first": first, "last": last}
    )
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for compound, days in result.all():
        counts = out.setdefault(compound, {})
        for entry in days.split(","):
            day, filed, resolved = entry.split(" ")
            counts[day] = (int(filed), int(resolved))
    return out
