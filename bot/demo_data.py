"""`jinlin demo-data --city`: a generated city of Nanping's size, its config and a year of data.

The grid goes into the config (so `jinlin check-config` and `App.start` read it) and, with the
cases, their logs, residents, activities and sign-ups, straight into the database in large
batches through the driver (executemany on SQLite, COPY on PostgreSQL): the bot's own write path
would take hours for a million cases. Everything is drawn from one seeded generator, so the same
seed and scale give the same city.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import yaml

from bot.core.domain import CaseAction, CaseKind, CaseStatus, Category, SignupStatus
from storage import figure_cells
from storage.cases import number_counter

TZ = ZoneInfo("Asia/Shanghai")
# The generated year ends here; `jinlin bench` runs its clock from this instant.
CITY_NOW = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)
BATCH = 20_000


@dataclass(frozen=True, slots=True)
class CityShape:
    """How many of each thing a generated city has."""

    communities: int
    compounds: int
    buildings: int
    residents: int
    cases: int
    activities: int

    @classmethod
    def nanping(cls, scale: float = 1.0) -> CityShape:
        """Nanping's grid (214 社区, 728 小区, 2,143 楼栋) and a year of its work, times scale."""

        def n(x: int) -> int:
            return max(1, round(x * scale))

        communities = n(214)
        compounds = max(communities, n(728))
        return cls(
            communities=communities,
            compounds=compounds,
            buildings=max(compounds, n(2143)),
            residents=n(100_000),
            cases=n(1_000_000),
            activities=n(20_000),
        )


@dataclass(frozen=True, slots=True)
class Building:
    """One generated building, its group and its head."""

    compound: int
    number: str
    topic: str
    head_id: str
    head_name: str


@dataclass(frozen=True, slots=True)
class City:
    """The generated grid: names and who is who."""

    shape: CityShape
    communities: list[str]
    community_of: list[int]  # compound index → community index
    compounds: list[str]
    buildings: list[Building]

    def secretary(self, compound: int) -> tuple[str, str]:
        """(id, name) of a compound's secretary."""
        return f"wxid_s{compound:05d}", f"{_SURNAMES[compound % len(_SURNAMES)]}书记"

    def workers(self, community: int) -> list[tuple[str, str]]:
        """(id, name) of a community's two workers."""
        return [
            (f"wxid_w{community:04d}_{j}", f"社区小{_SURNAMES[(community + j) % 97]}")
            for j in (1, 2)
        ]

    def volunteers(self, compound: int) -> list[tuple[str, str, str]]:
        """(id, name, team) of a compound's two volunteers."""
        return [
            (f"wxid_v{compound:05d}_{j}", f"{_SURNAMES[(compound + 7 * j) % 97]}老师", team)
            for j, team in ((1, "红"), (2, "绿"))
        ]

    def resident(self, r: int) -> tuple[str, str, int]:
        """(id, display name, building index) of resident r; resident r lives in r % buildings."""
        b = r % len(self.buildings)
        floor, unit = 1 + (r // len(self.buildings)) % 18, 1 + r % 4
        name = f"{self.buildings[b].number}栋{floor}0{unit}-{_SURNAMES[r % 97]}{_TITLES[r % 7]}"
        return f"wxid_r{r:07d}", name, b


_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)[:97]
_TITLES = ("阿姨", "师傅", "大姐", "叔", "老师", "哥", "奶奶")
_PLACES = (
    "武夷江南剑津滨江水南紫云延平建阳邵武光泽松溪政和顺昌浦城建瓯"
    "玉屏梅山九峰茫荡塔下西芹樟湖大横峡阳太平黄墩"
)
_ESTATES = (
    "香榭", "八仙", "花园", "新村", "家园", "雅苑", "名都", "嘉园", "华庭", "锦城", "御景", "书香",
    "阳光", "翠苑", "明珠", "春天", "丽景", "学府", "金桥", "龙湾", "尚城", "世家", "东苑", "西苑",
    "南苑", "北苑", "绿洲",
)  # fmt: skip


def _two_char_places() -> list[str]:
    return [_PLACES[i : i + 2] for i in range(0, len(_PLACES) - 1, 2)]


def _unique_names(
    count: int, heads: Sequence[str], tails: Sequence[str], suffix: str
) -> list[str]:
    out = []
    for i in range(count):
        head, tail = heads[i % len(heads)], tails[(i // len(heads)) % len(tails)]
        phase = i // (len(heads) * len(tails))
        out.append(f"{head}{tail}{f'{phase + 1}期' if phase else ''}{suffix}")
    return out


def make_city(shape: CityShape, seed: int) -> City:
    """The grid of a generated city: communities, compounds, buildings, groups and heads."""
    rng = random.Random(seed)
    places = _two_char_places()
    communities = _unique_names(
        shape.communities, places, ["", "东", "西", "南", "北", "中", "新", "前", "后"], "社区"
    )
    compounds = _unique_names(shape.compounds, places, _ESTATES, "")
    community_of = [i * shape.communities // shape.compounds for i in range(shape.compounds)]
    # Every compound has at least one building; the rest go where the generator says.
    per_compound = [1] * shape.compounds
    for _ in range(shape.buildings - shape.compounds):
        per_compound[rng.randrange(shape.compounds)] += 1
    buildings: list[Building] = []
    for c, count in enumerate(per_compound):
        for k in range(1, count + 1):
            b = len(buildings)
            buildings.append(
                Building(
                    compound=c,
                    number=str(k),
                    topic=f"{compounds[c]}{k}栋业主群",
                    head_id=f"wxid_h{b:06d}",
                    head_name=f"{_SURNAMES[b % 97]}{_TITLES[(b + 3) % 7]}",
                )
            )
    return City(shape, communities, community_of, compounds, buildings)


# --- the config ---------------------------------------------------------------------------------


def city_config(city: City, db_url: str, account: str = "default") -> dict[str, Any]:
    """The config of a generated city (the shape of config.example.yaml)."""
    grid: list[dict[str, Any]] = []
    for m, name in enumerate(city.communities):
        grid.append(
            {
                "community": name,
                "workers": [{"id": i, "name": n} for i, n in city.workers(m)],
                "compounds": [],
            }
        )
    by_compound: dict[int, list[Building]] = {}
    for b in city.buildings:
        by_compound.setdefault(b.compound, []).append(b)
    for c, name in enumerate(city.compounds):
        sid, sname = city.secretary(c)
        grid[city.community_of[c]]["compounds"].append(
            {
                "name": name,
                "secretary": {"id": sid, "name": sname},
                "rooms": [{"topic": b.topic, "buildings": [b.number]} for b in by_compound[c]],
                "buildings": [
                    {"number": b.number, "head": {"id": b.head_id, "name": b.head_name}}
                    for b in by_compound[c]
                ],
                "volunteers": [{"id": i, "name": n, "team": t} for i, n, t in city.volunteers(c)],
            }
        )
    return {
        "bot": {"name": "小邻", "account": account, "timezone": "Asia/Shanghai"},
        "storage": {"url": db_url},
        "transport": {"kind": "console"},
        "hotlines": {"fire": "119", "ambulance": "120", "gas": "0599-8822119"},
        "grid": grid,
        "sla": {"accept": "2h", "accept_urgent": "10m", "resolve": "3d"},
    }


def write_config(config: dict[str, Any], out: Path) -> None:
    """Write a config as YAML with the Chinese left readable."""
    out.write_text(
        "# A generated city (jinlin demo-data --city). Every name and number is made up.\n"
        + yaml.safe_dump(config, allow_unicode=True, sort_keys=False, width=120),
        encoding="utf-8",
    )


# --- the rows -----------------------------------------------------------------------------------


_TEXTS: dict[Category, tuple[str, ...]] = {
    Category.LIFT: ("{b}栋电梯又坏了", "{b}栋电梯门关不上", "{b}栋电梯异响很大"),
    Category.WATER: ("{b}栋停水了", "{b}栋楼道水管漏水", "{b}栋地下室积水"),
    Category.POWER: ("{b}栋停电了", "{b}栋楼道电闸跳了"),
    Category.LIGHTING: ("{b}栋楼道灯不亮", "{b}栋门口路灯坏了"),
    Category.SANITATION: ("{b}栋垃圾桶满了没人清", "{b}栋楼下有死老鼠"),
    Category.PARKING: ("{b}栋消防通道被车堵了", "{b}栋门口乱停车"),
    Category.NOISE: ("{b}栋楼上装修太吵了", "{b}栋半夜有人唱歌"),
    Category.EBIKE: ("{b}栋有人在楼道给电动车充电", "{b}栋充电桩坏了"),
    Category.STRUCTURE: ("{b}栋单元门禁坏了", "{b}栋楼梯扶手松了", "{b}栋外墙掉瓷砖"),
    Category.GREENERY: ("{b}栋门口的树枝挡路了", "{b}栋旁边草坪没人修"),
    Category.DISPUTE: ("{b}栋楼上漏水到我家，协商不了",),
    Category.OTHER: ("{b}栋信报箱坏了",),
}
_WISHES = (
    "微心愿：想借个轮椅，下周去医院用",
    "微心愿：家里老人想学用智能手机",
    "微心愿：想给孩子找个书法老师",
)
_ACTIVITY_TITLES = (
    "包饺子",
    "义诊",
    "理发",
    "读书会",
    "插花课",
    "反诈讲座",
    "亲子运动会",
    "消防演练",
    "广场舞",
)
_CATEGORIES = list(_TEXTS)


def _fmt_sqlite(when: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime on SQLite ("2026-11-30 02:00:00.000000")."""
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    return when.isoformat(" ", "microseconds")[:26]


CASE_COLUMNS = (
    "id", "kind", "number", "compound", "building", "text", "category", "urgent", "status",
    "reporter_id", "reporter_name", "room", "assignee_id", "assignee_name", "source_message_id",
    "rating", "created_at", "accepted_at", "resolved_at", "rated_at", "updated_at",
    "accept_due_at", "resolve_due_at",
)  # fmt: skip
EVENT_COLUMNS = ("id", "case_id", "at", "actor_id", "action", "note")


@dataclass
class _Numbers:
    cases: dict[str, int] = field(default_factory=dict)  # counter name -> last number given
    events: int = 0
    signups: int = 0

    def next_case(self, kind: CaseKind, compound: str) -> int:
        """The next number of a kind in a compound (numbers count per compound)."""
        name = number_counter(kind, compound)
        self.cases[name] = self.cases.get(name, 0) + 1
        return self.cases[name]


def _cases(
    city: City, seed: int, numbers: _Numbers, events: list[tuple[Any, ...]]
) -> Iterator[tuple[Any, ...]]:
    """Cases over the year before CITY_NOW, oldest first; their log rows go to `events`."""
    rng = random.Random(seed + 1)
    n = city.shape.cases
    span = timedelta(days=365).total_seconds()
    start = (CITY_NOW - timedelta(days=365)).astimezone(UTC)
    per_building = max(1, city.shape.residents // len(city.buildings))
    for i in range(n):
        created = start + timedelta(seconds=span * (i + rng.random()) / n)
        b = rng.randrange(len(city.buildings))
        building = city.buildings[b]
        compound = city.compounds[building.compound]
        rid, rname, _ = city.resident(b + len(city.buildings) * rng.randrange(per_building))
        wish = rng.random() < 0.08
        urgent = not wish and rng.random() < 0.03
        if wish:
            kind, category = CaseKind.WISH, None
            number = numbers.next_case(kind, compound)
            text = rng.choice(_WISHES)
            assignee_id, assignee_name = None, None
        else:
            cat = rng.choice(_CATEGORIES)
            number = numbers.next_case(CaseKind.REPORT, compound)
            kind, category = CaseKind.REPORT, cat.value
            text = rng.choice(_TEXTS[cat]).format(b=building.number)
            assignee_id, assignee_name = building.head_id, building.head_name
        age = CITY_NOW - created
        accepted = created + timedelta(minutes=rng.uniform(3, 180))
        resolved = accepted + timedelta(hours=rng.uniform(1, 72))
        rated = resolved + timedelta(hours=rng.uniform(0.2, 24))
        roll = rng.random()
        if age < timedelta(days=3) and roll < 0.3:
            status = CaseStatus.OPEN
        elif age < timedelta(days=3) and roll < 0.6:
            status = CaseStatus.ACCEPTED
        elif roll > 0.97:
            status = CaseStatus.CLOSED
        else:
            status = CaseStatus.RESOLVED
        accepted_at = accepted if status is not CaseStatus.OPEN and accepted < CITY_NOW else None
        if status is CaseStatus.ACCEPTED and accepted_at is None:
            status = CaseStatus.OPEN
        resolved_at = resolved if status is CaseStatus.RESOLVED and resolved < CITY_NOW else None
        if status is CaseStatus.RESOLVED and resolved_at is None:
            status = CaseStatus.ACCEPTED if accepted_at else CaseStatus.OPEN
        rating, rated_at = None, None
        if resolved_at is not None and rated < CITY_NOW and rng.random() < 0.6:
            rating, rated_at = rng.choice((5, 5, 5, 4, 3, 1)), rated
        if wish and accepted_at is not None:
            v = city.volunteers(building.compound)[rng.randrange(2)]
            assignee_id, assignee_name = v[0], v[1]
        case_id = i + 1
        accept_due = created + (timedelta(minutes=10) if urgent else timedelta(hours=2))
        resolve_due = accepted_at + timedelta(days=3) if accepted_at else None
        updated = rated_at or resolved_at or accepted_at or created
        yield (
            case_id, kind.value, number, compound, building.number, text, category, urgent,
            status.value, rid, rname, building.topic, assignee_id, assignee_name,
            f"demo:{case_id}",
            rating, created, accepted_at, resolved_at, rated_at, updated,
            accept_due if kind is CaseKind.REPORT else None,
            resolve_due if kind is CaseKind.REPORT else None,
        )  # fmt: skip

        def event(
            at: datetime, actor: str, action: CaseAction, note: str = "", case_id: int = case_id
        ) -> None:
            numbers.events += 1
            events.append((numbers.events, case_id, at, actor, action.value, note))

        event(created, rid, CaseAction.FILED, text)
        if accepted_at is not None:
            event(
                accepted_at, assignee_id or "", CaseAction.CLAIMED if wish else CaseAction.ACCEPTED
            )
        if resolved_at is not None:
            done = CaseAction.COMPLETED if wish else CaseAction.RESOLVED
            event(resolved_at, assignee_id or "", done, "已处理")
        elif status is CaseStatus.CLOSED:
            event(
                created + timedelta(hours=1), city.secretary(building.compound)[0], CaseAction.SPAM
            )
        if rated_at is not None:
            event(rated_at, rid, CaseAction.RATED, str(rating))


ACTIVITY_COLUMNS = (
    "id", "key", "source", "compound", "title", "starts_at", "place", "capacity", "status",
    "created_by", "created_at",
)  # fmt: skip
SIGNUP_COLUMNS = (
    "id", "activity_id", "person_id", "person_name", "headcount", "status", "room", "queued_at",
    "created_at", "updated_at",
)  # fmt: skip


def _activities(
    city: City, seed: int, numbers: _Numbers, signups: list[tuple[Any, ...]]
) -> Iterator[tuple[Any, ...]]:
    """Activities over the year, the last ~4% still ahead; each with a few sign-ups."""
    rng = random.Random(seed + 2)
    n = city.shape.activities
    per_building = max(1, city.shape.residents // len(city.buildings))
    of_compound: dict[int, list[int]] = {}
    for k, bld in enumerate(city.buildings):
        of_compound.setdefault(bld.compound, []).append(k)
    for i in range(n):
        # Every compound's first activity is ahead, so each can take sign-ups in the bench.
        c = i % len(city.compounds)
        ahead = i < len(city.compounds) or rng.random() < 0.04
        days = rng.uniform(1, 20) if ahead else -rng.uniform(1, 350)
        starts = (CITY_NOW + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
        title = f"{_ACTIVITY_TITLES[i % len(_ACTIVITY_TITLES)]}{starts.month}月{starts.day}日"
        created = min(CITY_NOW, starts - timedelta(days=7))
        sid = city.secretary(c)[0]
        aid = i + 1
        yield (
            aid, f"demo:{aid}", "published", city.compounds[c], title, starts, "党群连心园", 30,
            "open", sid, created,
        )  # fmt: skip
        buildings = of_compound[c][:3]
        for j in range(rng.randrange(2, 8)):
            b = buildings[j % len(buildings)]
            rid, rname, _ = city.resident(
                b + len(city.buildings) * ((j * 7919 + i) % per_building)
            )
            when = created + timedelta(hours=j + 1)
            numbers.signups += 1
            signups.append(
                (
                    numbers.signups,
                    aid,
                    rid,
                    rname,
                    1 + j % 3,
                    SignupStatus.CONFIRMED.value,
                    city.buildings[b].topic,
                    when,
                    when,
                    when,
                )
            )


# --- loading ------------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr (tqdm-like, nothing to install)."""

    def __init__(self, total: int, out: TextIO = sys.stderr, width: int = 30) -> None:
        self.total = max(1, total)
        self.done = 0
        self.out = out
        self.width = width
        self.began = time.monotonic()
        self._shown = 0.0
        self.label = ""

    def advance(self, n: int, label: str | None = None) -> None:
        """Count n more rows and redraw at most ten times a second."""
        self.done += n
        if label is not None:
            self.label = label
        now = time.monotonic()
        if now - self._shown >= 0.1 or self.done >= self.total:
            self._shown = now
            frac = min(1.0, self.done / self.total)
            bar = "█" * int(frac * self.width) + "·" * (self.width - int(frac * self.width))
            rate = self.done / max(1e-6, now - self.began)
            self.out.write(
                f"\r{self.label:<14} |{bar}| {frac * 100:5.1f}% {self.done:,}/{self.total:,} "
                f"rows, {rate:,.0f}/s, {now - self.began:.0f}s "
            )
            self.out.flush()

    def close(self) -> None:
        """End the line."""
        self.out.write("\n")
        self.out.flush()


def _batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Loader:
    """Writes batches of rows through the database's own driver."""

    async def open(self) -> None: ...
    async def write(
        self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None: ...
    async def finish(self, counters: dict[str, int]) -> None: ...
    async def close(self) -> None: ...


class _SqliteLoader(_Loader):
    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        # A bulk load that fails is simply run again: no need to sync or journal on the way.
        for pragma in (
            "journal_mode=WAL",
            "synchronous=OFF",
            "cache_size=-262144",
            "temp_store=MEMORY",
            "foreign_keys=OFF",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("BEGIN")
        # The figures' sums are made once after the load (fill), not case by case.
        for statement in figure_cells.drop_trigger_ddl("sqlite"):
            self.conn.execute(statement)

    async def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        assert self.conn is not None
        fixed = [tuple(_fmt_sqlite(v) if isinstance(v, datetime) else v for v in r) for r in rows]
        marks = ", ".join("?" * len(columns))
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", fixed
        )

    async def finish(self, counters: dict[str, int]) -> None:
        assert self.conn is not None
        for name, value in counters.items():
            self.conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
        for statement in figure_cells.trigger_ddl("sqlite"):
            self.conn.execute(statement)
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class _PgLoader(_Loader):
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: Any = None

    async def open(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self.conn = await asyncpg.connect(self.dsn)
        # The figures' sums are made once after the load (fill), not case by case; `close`
        # puts the triggers back whatever happens.
        for statement in figure_cells.drop_trigger_ddl("postgresql"):
            await self.conn.execute(statement)

    async def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def finish(self, counters: dict[str, int]) -> None:
        for name, value in counters.items():
            await self.conn.execute(
                "INSERT INTO counters (name, value) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                name,
                value,
            )
        # Ids were given explicitly: move each sequence past them.
        for table in ("cases", "case_events", "activities", "signups"):
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        # What autovacuum would do within minutes of a real load.
        await self.conn.execute("ANALYZE")

    async def close(self) -> None:
        if self.conn is not None:
            try:
                ddl = figure_cells.drop_trigger_ddl("postgresql")  # (whether or not they went)
                for statement in ddl + figure_cells.trigger_ddl("postgresql"):
                    await self.conn.execute(statement)
            finally:
                await self.conn.close()


def _loader(db_url: str) -> _Loader:
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("demo-data needs a SQLite file, not an in-memory database")
        return _SqliteLoader(url.database)
    return _PgLoader(url.set(drivername="postgresql").render_as_string(hide_password=False))


async def _upgrade(db_url: str) -> None:
    from storage import schema
    from storage.engine import create_engine

    engine = create_engine(db_url)
    try:
        await schema.upgrade(engine)
    finally:
        await engine.dispose()


async def _is_empty(db_url: str) -> bool:
    from sqlalchemy import text

    from storage.engine import create_engine

    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            found: int = (await conn.execute(text("SELECT count(*) FROM cases"))).scalar_one()
            return found == 0
    finally:
        await engine.dispose()


async def fill(db_url: str, city: City, seed: int, *, progress: bool = True) -> dict[str, int]:
    """Migrate an empty database and load the city into it; the row counts of each table."""
    await _upgrade(db_url)
    if not await _is_empty(db_url):
        raise ValueError(f"{db_url}: the database already holds cases; give an empty one")
    shape = city.shape
    events: list[tuple[Any, ...]] = []
    signups: list[tuple[Any, ...]] = []
    numbers = _Numbers()
    # The grid is the written config (the grid tables were dropped in 0007).
    expected = int(shape.cases * 4.5) + shape.activities * 6
    bar = Progress(expected) if progress else None
    counts: dict[str, int] = {}
    loader = _loader(db_url)
    await loader.open()
    try:

        async def flush(name: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
            for batch in _batches(rows, BATCH):
                await loader.write(name, columns, batch)
                counts[name] = counts.get(name, 0) + len(batch)
                if bar:
                    bar.advance(len(batch), name)
            rows.clear()

        for batch in _batches(_cases(city, seed, numbers, events), BATCH):
            await loader.write("cases", CASE_COLUMNS, batch)
            counts["cases"] = counts.get("cases", 0) + len(batch)
            if bar:
                bar.advance(len(batch), "cases")
            await flush("case_events", EVENT_COLUMNS, events)
        for batch in _batches(_activities(city, seed, numbers, signups), BATCH):
            await loader.write("activities", ACTIVITY_COLUMNS, batch)
            counts["activities"] = counts.get("activities", 0) + len(batch)
            if bar:
                bar.advance(len(batch), "activities")
            await flush("signups", SIGNUP_COLUMNS, signups)
        await loader.finish(numbers.cases)
    finally:
        await loader.close()
        if bar:
            bar.total = bar.done
            bar.advance(0, "done")
            bar.close()
    await _sum_figures(db_url, progress=progress)
    return counts


async def _sum_figures(db_url: str, *, progress: bool) -> None:
    """Make the figures' sums of the loaded cases (storage/figure_cells.py), as an upgrade does."""
    from storage.engine import create_engine

    bar = Progress(1) if progress else None

    def step(done: int, total: int) -> None:
        if bar is not None:
            bar.total = max(1, total)
            bar.advance(done - bar.done, "figure sums")

    engine = create_engine(db_url)
    try:
        await figure_cells.ensure(engine, TZ, step)
    finally:
        await engine.dispose()
        if bar is not None:
            bar.close()


def cmd_demo_data(args: argparse.Namespace) -> int:
    """Write a generated city's config and fill its database."""
    if not args.city:
        print("jinlin demo-data: only --city is available for now", file=sys.stderr)
        return 2
    if args.scale <= 0:
        print("jinlin demo-data: --scale must be positive", file=sys.stderr)
        return 2
    shape = CityShape.nanping(args.scale)
    city = make_city(shape, args.seed)
    out = Path(args.out)
    began = time.monotonic()
    try:
        counts = asyncio.run(fill(args.db, city, args.seed, progress=not args.quiet))
    except ValueError as e:
        print(f"jinlin demo-data: {e}", file=sys.stderr)
        return 2
    took = time.monotonic() - began
    write_config(city_config(city, args.db), out)
    print(
        f"{out}: {shape.communities:,} communities, {shape.compounds:,} compounds, "
        f"{shape.buildings:,} buildings and groups"
    )
    print(
        f"{args.db}: {shape.residents:,} residents, {counts.get('cases', 0):,} cases with "
        f"{counts.get('case_events', 0):,} events, {counts.get('activities', 0):,} activities "
        f"with {counts.get('signups', 0):,} sign-ups in {took:.0f} s"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `demo-data` to the `jinlin` command line."""
    p = sub.add_parser(
        "demo-data", help="generate a city of Nanping's size: a config and its data"
    )
    p.add_argument("--city", action="store_true", help="a whole city (the only kind for now)")
    p.add_argument("--scale", type=float, default=1.0, help="times Nanping's size (0.01: small)")
    p.add_argument(
        "--seed", type=int, default=14, help="the random seed (the same seed gives the same city)"
    )
    p.add_argument(
        "--db",
        required=True,
        help="an empty database (sqlite+aiosqlite:///F or postgresql+asyncpg://...)",
    )
    p.add_argument("--out", required=True, help="where to write the config (YAML)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo_data)
