"""Who is asking, from where, over what: client address behind trusted proxies, Host, Origin."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from aiohttp import web

from bot.core.config import WebSection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Client:
    """The browser's address and whether it reached us over HTTPS (possibly via a proxy)."""

    address: str
    secure: bool


class Network:
    """The web section's view of the network: trusted proxies and the hosts we answer to."""

    def __init__(self, cfg: WebSection) -> None:
        self._cfg = cfg

    @cached_property
    def proxies(self) -> tuple[IPNetwork, ...]:
        """The trusted proxy networks."""
        return tuple(ipaddress.ip_network(p, strict=False) for p in self._cfg.trusted_proxies)

    def trusted(self, address: str) -> bool:
        """True when `address` is one of the trusted proxies."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in net for net in self.proxies)

    def client(self, request: web.Request) -> Client:
        """The client address and scheme; forwarded headers count only from a trusted peer."""
        peer = request.transport.get_extra_info("peername") if request.transport else None
        address = str(peer[0]) if isinstance(peer, tuple | list) and peer else "?"
        secure = request.scheme == "https"
        if not self.trusted(address):
            return Client(address, secure)
        # Walk X-Forwarded-For from the right: the first hop that is no trusted proxy is the
        # client. Anything to its left was written by the client and proves nothing.
        hops = [
            h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
        ]
        hops = [h for h in hops if h]
        for hop in reversed(hops):
            if not _is_ip(hop):
                break
            address = hop
            if not self.trusted(hop):
                break
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            secure = proto == "https"
        return Client(address, secure)

    def host_allowed(self, request: web.Request) -> bool:
        """True when the Host header names one of the hosts we answer to (DNS rebinding)."""
        hosts = self._cfg.hosts
        if "*" in hosts:
            return True
        return host_name(request.host) in hosts

    def same_origin(self, request: web.Request) -> bool:
        """True when Origin (else Referer) names this site; a cross-site form post fails."""
        origin = request.headers.get("Origin")
        if origin is None or origin == "null":
            referer = request.headers.get("Referer")
            if not referer:
                return False
            origin = referer
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        if parts.netloc.lower() == request.host.lower():
            return True
        public = self._cfg.public_url
        return public is not None and parts.netloc.lower() == urlsplit(public).netloc.lower()


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def host_name(host: str) -> str:
    """The name part of a Host header value: no port, no IPv6 brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")
