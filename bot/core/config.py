"""The typed configuration: loaded from YAML, validated once at start, passed down explicitly."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.core.config_errors import (
    describe,
    duplicate_key,
    not_utf8,
    shown,
    unreadable,
    yaml_syntax,
    yaml_value,
)

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: object) -> timedelta:
    """Read "90s", "10m", "2h", "3d" (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if value != value:  # NaN
                raise TypeError
            return timedelta(seconds=value)
        if isinstance(value, str):
            m = _DURATION_RE.match(value)
            if m:
                return timedelta(**{_UNITS[m[2]]: float(m[1])})
    except (OverflowError, ValueError):
        # timedelta stops at 999,999,999 days: say so instead of a traceback
        raise ValueError(f"时长 {shown(value)} 太长了（请不要超过 10 年）") from None
    except TypeError:
        pass
    raise ValueError(
        f"应当是时长，如 10m、2h、3d（s 秒、m 分、h 时、d 天），现在是 {shown(value)}"
    )


def _bounded(value: timedelta) -> timedelta:
    # Later arithmetic (now + duration) must not overflow, and a negative wait means nothing.
    if value < timedelta(0):
        raise ValueError("不能是负数")
    if value > _LONGEST:
        raise ValueError("时长太长了（请不要超过 10 年）")
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("必须大于 0（如 10m、2h、3d）")
    return _bounded(value)


_LONGEST = timedelta(days=3660)
Duration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_bounded)]
# A wait that must pass before something happens: 0s would fire at once, forever.
PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
NonEmpty = Annotated[str, Field(min_length=1)]


def _as_str(value: object) -> object:
    # YAML reads `number: 3` as an int; building numbers are names, so keep them as text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


BuildingNo = Annotated[str, BeforeValidator(_as_str), Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonConfig(_Model):
    """A person known to the bot by WeChat id, addressed by name."""

    id: NonEmpty
    name: NonEmpty


class VolunteerConfig(PersonConfig):
    """A volunteer of the compound's mutual-aid teams (红/黄/绿)."""

    team: str | None = None


class RoomConfig(_Model):
    """A WeChat group the bot serves; `buildings` names the buildings it is for."""

    topic: NonEmpty
    buildings: list[BuildingNo] = []
    # the WeChat room id (e.g. 12345678@chatroom), when known: then the topic is only a name
    wechat_id: str | None = None


class BuildingConfig(_Model):
    """A building and its head (楼栋长)."""

    number: BuildingNo
    head: PersonConfig | None = None


class HotlinesConfig(_Model):
    """Numbers given in safety hints of urgent cases."""

    fire: str = "119"
    ambulance: str = "120"
    gas: str | None = None
    property: str | None = None


class CompoundConfig(_Model):
    """A residential compound (小区) with its party branch secretary."""

    name: NonEmpty
    secretary: PersonConfig | None = None
    rooms: list[RoomConfig] = []
    buildings: list[BuildingConfig] = []
    volunteers: list[VolunteerConfig] = []
    hotlines: HotlinesConfig | None = None


class CommunityConfig(_Model):
    """A community (社区) with its workers and compounds."""

    community: NonEmpty
    workers: list[PersonConfig] = []
    compounds: list[CompoundConfig] = []


class BotSection(_Model):
    """Who the bot is and when it keeps quiet."""

    name: NonEmpty = "小邻"
    account: NonEmpty = "default"  # one bot process per WeChat account; outbox rows carry it
    timezone: str = "Asia/Shanghai"
    quiet_hours: str | None = "22:00-07:00"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"没有这个时区 {shown(v)}（请写 IANA 时区名，如 Asia/Shanghai）"
            ) from None
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _valid_quiet_hours(cls, v: str | None) -> str | None:
        if v:
            parse_quiet_hours(v)
        return v

    @property
    def tz(self) -> ZoneInfo:
        """The configured timezone."""
        return ZoneInfo(self.timezone)

    @property
    def quiet(self) -> tuple[time, time] | None:
        """Quiet hours as (start, end), or None when the bot is never quiet."""
        return parse_quiet_hours(self.quiet_hours) if self.quiet_hours else None


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """Read "22:00-07:00" as (start, end) times."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    if not m:
        raise ValueError(f"应当是 时:分-时:分，如 22:00-07:00，现在是 {shown(value)}")
    try:
        return time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))
    except ValueError:
        raise ValueError(
            f"时刻不存在（时 0-23，分 0-59），如 22:00-07:00，现在是 {shown(value)}"
        ) from None


class StorageSection(_Model):
    """Where the state lives."""

    url: NonEmpty = "sqlite+aiosqlite:///jinlin.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "请写 sqlite+aiosqlite:///文件名 或 postgresql+asyncpg://用户@主机/数据库名"
            )
        return v


class WebTransportSection(_Model):
    """`transport: {kind: web}`: the browser sandbox (and the console) on host:port."""

    kind: Literal["web"] = "web"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class ConsoleTransportSection(_Model):
    """`transport: {kind: console}`: chat with the bot in the terminal."""

    kind: Literal["console"] = "console"


class WechatyTransportSection(_Model):
    """`transport: {kind: wechaty}`: a real WeChat account through a wechaty puppet service."""

    kind: Literal["wechaty"] = "wechaty"
    endpoint: NonEmpty  # host:port of the puppet service's gRPC port
    token: str | None = None  # the service's token; better in the environment (token_env)
    token_env: NonEmpty = "JINLIN_WECHATY_TOKEN"
    data_dir: NonEmpty = "data"
    # the console, 民情码, API and /healthz served beside the bot
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    offline_notice_after: Duration = timedelta(minutes=10)
    heartbeat: PositiveDuration = timedelta(seconds=10)  # how often the process says it is alive
    notify_workers: bool = False  # outage and restriction notices go to the workers too
    # replies to private messages from people the grid does not know, per person and day
    stranger_replies: int = Field(default=2, ge=0)
    # where the QR login link also goes (a WeCom group robot webhook URL, or its env variable)
    login_webhook: str | None = None
    login_webhook_env: str | None = None


def _transport_kind(value: object) -> str:
    # A section without `kind` is the console, as before the kinds had sections of their own.
    if isinstance(value, dict):
        return str(value.get("kind", "console"))
    return str(getattr(value, "kind", "console"))


TRANSPORT_KIND = "transport_kind"  # the error type of an unknown transport.kind
TransportSection = Annotated[
    Annotated[WebTransportSection, Tag("web")]
    | Annotated[ConsoleTransportSection, Tag("console")]
    | Annotated[WechatyTransportSection, Tag("wechaty")],
    Discriminator(
        _transport_kind,
        custom_error_type=TRANSPORT_KIND,
        custom_error_message="只能是 web、console 或 wechaty",
    ),
]
TRANSPORT_KINDS = ("web", "console", "wechaty")


def web_address(section: TransportSection) -> tuple[str, int]:
    """Where the web pages listen: the web or wechaty section's host and port."""
    if isinstance(section, WebTransportSection | WechatyTransportSection):
        return section.host, section.port
    return WebTransportSection().host, WebTransportSection().port


class SendingSection(_Model):
    """Pacing that keeps a WeChat account safe; all outgoing messages pass through it."""

    min_gap: float = Field(default=1.5, ge=0)  # seconds between any two sends
    jitter: float = Field(default=0.5, ge=0)  # random extra seconds on top of min_gap
    room_gap: float = Field(default=3.0, ge=0)  # seconds between two sends to one room
    daily_cap: int = Field(default=500, ge=1)
    merge_private: bool = True  # several queued messages to one person go as one
    max_attempts: int = Field(default=8, ge=1)
    # sent messages are deleted after this long, so the outbox does not grow without end;
    # at least a day, since the daily cap and the stranger limit count today's sends
    keep_sent: Duration = Field(default=timedelta(days=7), ge=timedelta(days=1))


class SlaSection(_Model):
    """How long a case may wait before it is escalated."""

    accept: PositiveDuration = timedelta(hours=2)
    accept_urgent: PositiveDuration = timedelta(minutes=10)
    resolve: PositiveDuration = timedelta(days=3)


class CoBuildingDaySection(_Model):
    """The monthly co-building day (每月28日共建日)."""

    day: int = Field(default=28, ge=1, le=28)
    reminders: list[str] = ["-3d 18:00", "-1d 20:00", "0d 08:30"]
    themes: list[NonEmpty] = [
        "管一管身边小事",
        "扫一扫小区街巷",
        "劝一劝邻里纠纷",
        "帮一帮困难群众",
        "讲一讲好人好事",
        "提一提发展良策",
    ]

    activity_at: str = "09:00"  # when the month's co-building activity starts on the day

    @field_validator("reminders")
    @classmethod
    def _valid_offsets(cls, v: list[str]) -> list[str]:
        for item in v:
            parse_reminder_offset(item)
        return v

    @field_validator("activity_at")
    @classmethod
    def _valid_time(cls, v: str) -> str:
        parse_clock(v)
        return v

    @property
    def activity_time(self) -> time:
        """activity_at as a time of day."""
        return parse_clock(self.activity_at)


def parse_clock(value: str) -> time:
    """Read "09:00" as a time of day."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(f"应当是时刻，如 09:00，现在是 {shown(value)}")
    return time(int(m[1]), int(m[2]))


class ServicesSection(_Model):
    """Timings of the neighbourly services: wishes, 接龙 rosters, duplicate reports."""

    wish_remind_after: PositiveDuration = timedelta(days=1)  # unclaimed: remind the volunteers
    wish_escalate_after: PositiveDuration = timedelta(days=3)  # still unclaimed: to the secretary
    roster_gap: Duration = timedelta(minutes=10)  # at most one roster per room and activity
    duplicate_window: Duration = timedelta(hours=24)  # a report joins cases this recent
    duplicate_similarity: int = Field(default=70, ge=1, le=100)  # rapidfuzz partial_ratio

    @model_validator(mode="after")
    def _escalate_after_remind(self) -> ServicesSection:
        if self.wish_escalate_after <= self.wish_remind_after:
            raise ValueError("wish_escalate_after 必须比 wish_remind_after 长")
        return self


def parse_reminder_offset(value: str) -> tuple[int, time]:
    """Read "-1d 20:00" as (day offset, time of day)."""
    m = re.fullmatch(r"\s*([+-]?\d+)d\s+(\d{1,2}):(\d{2})\s*", value)
    if not m:
        raise ValueError(
            f"应当是相差天数加时刻，如 -1d 20:00（前一天 20:00），现在是 {shown(value)}"
        )
    return int(m[1]), time(int(m[2]), int(m[3]))


class ActivityConfig(_Model):
    """An activity open for sign-up."""

    title: NonEmpty
    compound: NonEmpty
    starts_at: datetime
    place: str = ""
    capacity: int | None = Field(default=None, ge=1)


_PASSWORD_HASH_RE = re.compile(r"^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$")
_TOKEN_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class WebUserConfig(_Model):
    """A console user: a password hash (see `jinlin web hash-password`) and what they may see."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    display_name: str | None = None
    password_hash: NonEmpty  # scrypt$N$r$p$<salt base64>$<hash base64>
    admin: bool = False  # sees every compound
    compounds: list[NonEmpty] = []
    communities: list[NonEmpty] = []

    @field_validator("name")
    @classmethod
    def _one_word(cls, v: str) -> str:
        # the login form and the session cookie take the name as one word
        if re.search(r"[\s:]", v):
            raise ValueError(f"登录名不能含空格或冒号，现在是 {shown(v)}")
        return v

    @field_validator("password_hash")
    @classmethod
    def _scrypt_format(cls, v: str) -> str:
        if not _PASSWORD_HASH_RE.match(v):
            raise ValueError(
                "格式应为 scrypt$N$r$p$SALT$HASH；"
                "请用 jinlin web hash-password 生成，不要写明文密码"
            )
        return v


class ApiTokenConfig(_Model):
    """A bearer token for the JSON API: its SHA-256 (hex) or the env variable holding it."""

    name: NonEmpty
    token_sha256: str | None = None
    token_env: str | None = None
    admin: bool = False
    compounds: list[NonEmpty] = []
    communities: list[NonEmpty] = []

    @field_validator("token_sha256")
    @classmethod
    def _hex_digest(cls, v: str | None) -> str | None:
        if v is not None and not _TOKEN_SHA256_RE.match(v):
            raise ValueError(
                "应当是 64 位小写十六进制（令牌的 sha256）；请用 jinlin web new-token 生成"
            )
        return v


def _network(value: str) -> str:
    import ipaddress

    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{shown(value)} 不是 IP 地址或网段（如 127.0.0.1 或 10.0.0.0/8）"
        ) from None
    return value.strip()


def _host_name(value: str) -> str:
    host = value.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or any(c in host for c in "/ @?#") or (":" in host and host.count(":") < 2):
        raise ValueError(
            f"{shown(value)} 不是主机名：不要写 http:// 和端口，如 jinlin.example.org"
        )
    return host


class WebSection(_Model):
    """The web side: users, API tokens, session and lock-out rules, limits of the 民情码 form."""

    secret_env: str = "JINLIN_WEB_SECRET"  # else a secret kept in the database is used
    public_url: str | None = None  # base of the 民情码 QR codes, e.g. https://jinlin.example.org
    # Host headers answered (DNS rebinding); the host of public_url is always added.
    allowed_hosts: list[Annotated[str, BeforeValidator(_host_name)]] = [
        "127.0.0.1",
        "localhost",
        "::1",
    ]
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (a reverse proxy).
    trusted_proxies: list[Annotated[str, BeforeValidator(_network)]] = []
    secure_cookies: bool | None = None  # None: Secure when the request came over HTTPS
    login_token: bool = True  # with no users, print a one-time login token at start
    max_failures: int = Field(default=5, ge=1)  # failed logins per (user, address) ...
    lockout: Duration = timedelta(minutes=15)  # ... before this lock-out
    user_backoff_after: int = Field(default=20, ge=1)  # failures of a user from all addresses
    user_backoff: Duration = timedelta(minutes=1)  # ... then one try per this for that user
    session_ttl: Duration = timedelta(hours=12)
    report_rate: int = Field(default=5, ge=1)  # 民情码 reports per address per report_window
    report_window: Duration = timedelta(minutes=10)
    building_budget: int = Field(default=10, ge=1)  # reports per building per budget_window
    compound_budget: int = Field(default=30, ge=1)  # reports per compound per budget_window
    budget_window: Duration = timedelta(hours=1)
    urgent_window: Duration = timedelta(minutes=30)  # one urgent ping per building per window
    contact_retention: Duration = timedelta(days=30)  # phone numbers kept after the case closes
    photo_max_bytes: int = Field(default=5 * 1024 * 1024, ge=10_000, le=20 * 1024 * 1024)
    users: list[WebUserConfig] = []
    api_tokens: list[ApiTokenConfig] = []

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, v: str | None) -> str | None:
        if v is None:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"应当是完整的 http(s) 网址，如 https://jinlin.example.org，现在是 {shown(v)}"
            )
        return v.strip().rstrip("/")

    @property
    def hosts(self) -> frozenset[str]:
        """Host names the web side answers: allowed_hosts plus the host of public_url."""
        from urllib.parse import urlsplit

        extra = urlsplit(self.public_url).hostname if self.public_url else None
        return frozenset([*self.allowed_hosts, *([extra.lower()] if extra else [])])


class Config(_Model):
    """The whole configuration."""

    bot: BotSection = BotSection()
    storage: StorageSection = StorageSection()
    transport: TransportSection = ConsoleTransportSection()
    sending: SendingSection = SendingSection()
    hotlines: HotlinesConfig = HotlinesConfig()
    grid: list[CommunityConfig] = []
    sla: SlaSection = SlaSection()
    co_building_day: CoBuildingDaySection = CoBuildingDaySection()
    services: ServicesSection = ServicesSection()
    activities: list[ActivityConfig] = []
    web: WebSection = WebSection()


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a config file."""

    path: str  # key path like grid[0].compounds[1].buildings[2].head.id
    message: str  # in Chinese: what is wrong and what to write
    line: int | None = None  # where in the file, when known

    def __str__(self) -> str:
        where = f"（第 {self.line} 行）" if self.line is not None else ""
        return f"{self.path}：{self.message}{where}" if self.path else self.message + where


class ConfigError(Exception):
    """The configuration cannot be used; carries every problem found."""

    def __init__(self, source: str, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {p}" for p in problems]
        super().__init__("配置有误：\n" + "\n".join(lines))


def _key_path(loc: tuple[int | str, ...]) -> str:
    # The transport union puts its tag in the location (transport.wechaty.endpoint); a reader
    # knows the key as transport.endpoint.
    if len(loc) > 2 and loc[0] == "transport" and loc[1] in TRANSPORT_KINDS:
        loc = (loc[0], *loc[2:])
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_TRANSPORT_SECTIONS: dict[str, type[BaseModel]] = {
    "web": WebTransportSection,
    "console": ConsoleTransportSection,
    "wechaty": WechatyTransportSection,
}


def _model_in(annotation: object) -> type[BaseModel] | None:
    # The model a field holds, through list[...], X | None and Annotated[...].
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed in the mapping at `loc` (the location of its parent), or none known."""
    model: type[BaseModel] | None = Config
    rest = list(loc)
    while rest and model is not None:
        part = rest.pop(0)
        if isinstance(part, int):
            continue
        if model is Config and part == "transport":
            # pydantic puts the union's tag next: transport.wechaty.<key>
            tag = rest.pop(0) if rest and rest[0] in _TRANSPORT_SECTIONS else "console"
            model = _TRANSPORT_SECTIONS[str(tag)]
            continue
        info = model.model_fields.get(str(part))
        model = _model_in(info.annotation) if info is not None else None
    return list(model.model_fields) if model is not None else []


def _problem(err: dict[str, Any], lines: Mapping[str, int]) -> ConfigProblem:
    loc = tuple(err.get("loc", ()))
    if err.get("type") == TRANSPORT_KIND:
        # the discriminator reports the whole section; the reader wrote the kind
        loc = (*loc, "kind")
        given = err.get("input")
        err = {**err, "input": given.get("kind") if isinstance(given, dict) else given}
    path = _key_path(loc)
    allowed = _keys_at(loc[:-1]) if err.get("type") == "extra_forbidden" and loc else []
    return ConfigProblem(path, describe(err, allowed), _line_of(path, lines))


def _line_of(path: str, lines: Mapping[str, int]) -> int | None:
    # A missing key has no line: point at the mapping it belongs in.
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[: max(cut, 0)]
    return None


def _cross_check(cfg: Config, lines: Mapping[str, int]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []

    def add(path: str, message: str) -> None:
        problems.append(ConfigProblem(path, message, _line_of(path, lines)))

    seen_topics: dict[str, str] = {}
    seen_compounds: dict[str, str] = {}
    for ci, community in enumerate(cfg.grid):
        for pi, compound in enumerate(community.compounds):
            base = f"grid[{ci}].compounds[{pi}]"
            if compound.name in seen_compounds:
                add(
                    f"{base}.name",
                    f"小区 {shown(compound.name)} 已在 {seen_compounds[compound.name]} 写过，"
                    "小区名不能重复",
                )
            seen_compounds.setdefault(compound.name, f"{base}.name")
            numbers: dict[str, int] = {}
            for bi, b in enumerate(compound.buildings):
                if b.number in numbers:
                    add(
                        f"{base}.buildings[{bi}].number",
                        f"楼栋 {shown(b.number)} 列了两次（另见 buildings[{numbers[b.number]}]），"
                        "请删掉一处",
                    )
                numbers.setdefault(b.number, bi)
            for ri, room in enumerate(compound.rooms):
                where = f"{base}.rooms[{ri}]"
                if room.topic in seen_topics:
                    add(
                        f"{where}.topic",
                        f"群名 {shown(room.topic)} 已在 {seen_topics[room.topic]} 用过，"
                        "每个群只能写一次",
                    )
                seen_topics.setdefault(room.topic, f"{where}.topic")
                for bj, number in enumerate(room.buildings):
                    if number not in numbers:
                        add(
                            f"{where}.buildings[{bj}]",
                            f"楼栋 {shown(number)} 不在小区 {shown(compound.name)} 的 "
                            f"{base}.buildings 里，请先在那里列出这栋楼",
                        )
    for ai, act in enumerate(cfg.activities):
        if act.compound not in seen_compounds:
            add(
                f"activities[{ai}].compound",
                f"grid 里没有叫 {shown(act.compound)} 的小区，请写 grid 里某个小区的 name",
            )
    return problems


def parse_config(
    data: object, source: str = "<config>", lines: Mapping[str, int] | None = None
) -> Config:
    """Validate already-loaded YAML data; raise ConfigError listing every problem.

    `lines` maps key paths to their line in the file, for the messages."""
    lines = lines or {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            source,
            [
                ConfigProblem(
                    "",
                    "文件的最外层应当是一组“键: 值”（YAML 映射），请照 config.example.yaml 填写",
                )
            ],
        )
    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(source, [_problem(dict(err), lines) for err in e.errors()]) from None
    problems = _cross_check(cfg, lines)
    if problems:
        raise ConfigError(source, problems)
    return cfg


def _duplicate_keys(node: yaml.Node, path: str = "") -> list[ConfigProblem]:
    # PyYAML lets a second `bot:` silently win; a config must say one thing once.
    problems: list[ConfigProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = f"{path}.{key}" if path else str(key)
            if key is not None and key != "<<":
                line = key_node.start_mark.line + 1
                if key in seen:
                    problems.append(ConfigProblem(where, duplicate_key(key, line, seen[key])))
                seen.setdefault(key, line)
            problems += _duplicate_keys(value_node, where)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems += _duplicate_keys(item, f"{path}[{i}]")
    return problems


def _key_lines(node: yaml.Node) -> dict[str, int]:
    """The line (1-based) of every key path in the document, as _key_path spells paths."""
    out: dict[str, int] = {}
    todo: list[tuple[str, yaml.Node]] = [("", node)]
    while todo:
        path, n = todo.pop()
        if isinstance(n, yaml.MappingNode):
            for key_node, value_node in n.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                where = f"{path}.{key_node.value}" if path else str(key_node.value)
                out.setdefault(where, key_node.start_mark.line + 1)
                todo.append((where, value_node))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                out.setdefault(f"{path}[{i}]", item.start_mark.line + 1)
                todo.append((f"{path}[{i}]", item))
    return out


def _bad_scalar_line(loader: yaml.SafeLoader, node: yaml.Node) -> int | None:
    """The line of the first scalar that YAML cannot turn into a value."""
    todo = [node]
    while todo:
        n = todo.pop(0)
        if isinstance(n, yaml.ScalarNode):
            make = loader.yaml_constructors.get(n.tag)
            try:
                if make is not None:
                    make(loader, n)
            except (ValueError, OverflowError, TypeError, yaml.YAMLError):
                return int(n.start_mark.line) + 1
        elif isinstance(n, yaml.MappingNode):
            todo += [x for pair in n.value for x in pair]
        elif isinstance(n, yaml.SequenceNode):
            todo += n.value
    return None


def _read_yaml(text: str, source: str) -> tuple[object, dict[str, int]]:
    """The document's data and the line of each key path."""
    try:
        # libyaml's parser when PyYAML has it: a city's config (2,143 buildings, 0.5 MB)
        # takes 0.4 s to read instead of 5 s; the nodes, marks and constructors are the same.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {}
            dups = _duplicate_keys(node)
            if dups:
                raise ConfigError(source, dups)
            try:
                return loader.construct_document(node), _key_lines(node)
            except (ValueError, OverflowError, TypeError) as e:
                # e.g. a date like 2026-13-45, which YAML reads as a timestamp
                line = _bad_scalar_line(loader, node)
                raise ConfigError(source, [ConfigProblem("", yaml_value(line, e))]) from None
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        raise ConfigError(source, [ConfigProblem("", yaml_syntax(e))]) from None
    except RecursionError:
        raise ConfigError(
            source, [ConfigProblem("", "YAML 嵌套太深，请照 config.example.yaml 的层次填写")]
        ) from None


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file; raise ConfigError naming file and key paths."""
    p = Path(path)
    source = str(p)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ConfigError(source, [ConfigProblem("", unreadable(e.errno, e.strerror))]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(source, [ConfigProblem("", not_utf8(line, e.start))]) from None
    data, lines = _read_yaml(text.removeprefix("\ufeff"), source)
    if data is None:
        raise ConfigError(
            source,
            [ConfigProblem("", "文件是空的；请从 config.example.yaml 复制一份再改")],
        )
    return parse_config(data, source, lines)


def summarise(cfg: Config) -> str:
    """A short summary of the grid, in Chinese, for `jinlin check-config`."""
    compounds = [c for com in cfg.grid for c in com.compounds]
    rooms = [r for c in compounds for r in c.rooms]
    buildings = [b for c in compounds for b in c.buildings]
    heads = [b for b in buildings if b.head is not None]
    lines = [
        f"社区：{len(cfg.grid)} 个",
        f"小区：{len(compounds)} 个",
        f"群：{len(rooms)} 个",
        f"楼栋：{len(buildings)} 栋（{len(heads)} 栋有楼栋长）",
        f"志愿者：{sum(len(c.volunteers) for c in compounds)} 人",
        f"活动：{len(cfg.activities)} 个",
    ]
    for com in cfg.grid:
        workers = "、".join(w.name for w in com.workers) or "无"
        lines.append(f"- {com.community}（社区工作者：{workers}）")
        for c in com.compounds:
            sec = c.secretary.name if c.secretary else "没有书记"
            topics = "、".join(r.topic for r in c.rooms) or "无"
            lines.append(f"  - {c.name}：{sec}；群：{topics}")
            for b in c.buildings:
                head = f"{b.head.name}（{b.head.id}）" if b.head else "没有楼栋长"
                lines.append(f"    - {b.number} 栋：{head}")
    return "\n".join(lines)
