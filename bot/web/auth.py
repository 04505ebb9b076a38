"""Passwords (scrypt), signed session cookies, CSRF tokens and who may see which compound."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from bot.core.config import ApiTokenConfig, WebUserConfig
from bot.core.grid import Grid

# scrypt cost: 2**14 * 8 * 128 bytes = 16 MiB of memory per check, about 50 ms.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SESSION_COOKIE = "jinlin_session"
LOGIN_COOKIE = "jinlin_login"


def hash_password(
    password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> str:
    """Hash a password as scrypt$N$r$p$<salt base64>$<hash base64>."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches a hash made by hash_password."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=2**26,
            dklen=len(want),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def password_fingerprint(stored: str) -> str:
    """A digest of a stored password hash: sessions made before a password change end."""
    return hashlib.sha256(("fp:" + stored).encode()).hexdigest()


def token_sha256(token: str) -> str:
    """The hex SHA-256 of an API token, as written in the config."""
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _urlb64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unurlb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks small JSON payloads with HMAC-SHA256 (cookies, form tokens)."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("jinlin-web:" + secret).encode()).digest()

    def _mac(self, purpose: str, body: str) -> str:
        return _urlb64(hmac.new(self._key, f"{purpose}.{body}".encode(), "sha256").digest())

    def sign(self, purpose: str, payload: dict[str, object]) -> str:
        """A tamper-proof string carrying `payload`, valid only for `purpose`."""
        body = _urlb64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def unsign(self, purpose: str, value: str) -> dict[str, object] | None:
        """The payload of a string made by sign(purpose, ...), or None if forged or malformed."""
        body, _, mac = value.partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self._mac(purpose, body)):
            return None
        try:
            data = json.loads(_unurlb64(body))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking (a console user or an API token) and which compounds they may see."""

    name: str
    display_name: str
    admin: bool
    compounds: frozenset[str]
    kind: str = "user"  # user | token

    @property
    def actor_id(self) -> str:
        """How this principal is written in case logs."""
        return f"console:{self.name}" if self.kind == "user" else f"api:{self.name}"

    def may_see(self, compound: str) -> bool:
        """True when the principal may see this compound's data."""
        return self.admin or compound in self.compounds

    def visible(self, grid: Grid) -> list[str]:
        """The compounds this principal sees, in config order."""
        return [c.name for c in grid.compounds() if self.may_see(c.name)]


def _scope(grid: Grid, compounds: list[str], communities: list[str]) -> frozenset[str]:
    names = set(compounds)
    for c in grid.compounds():
        if grid.community_of(c.name).community in communities:
            names.add(c.name)
    return frozenset(names)


def user_principal(grid: Grid, user: WebUserConfig) -> Principal:
    """The principal of a configured console user."""
    return Principal(
        name=user.name,
        display_name=user.display_name or user.name,
        admin=user.admin,
        compounds=_scope(grid, user.compounds, user.communities),
    )


def token_principal(grid: Grid, token: ApiTokenConfig) -> Principal:
    """The principal of a configured API token."""
    return Principal(
        name=token.name,
        display_name=token.name,
        admin=token.admin,
        compounds=_scope(grid, token.compounds, token.communities),
        kind="token",
    )


ONE_TIME_USER = "admin"


def admin_principal() -> Principal:
    """The principal of whoever logs in with the one-time token printed at start."""
    return Principal(ONE_TIME_USER, "管理员", True, frozenset())
