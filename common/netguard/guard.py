"""Resolve a URL's host once, check every answer, and hand back the address to connect to."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import anyio

from common.netguard.errors import (
    BlockedAddressError,
    ResolutionError,
    UnsupportedURLError,
)
from common.netguard.policy import AddressPolicy, IPAddress, parse_ip_literal

DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` resolves to."""
        ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo), run off the event loop."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise ResolutionError(f"cannot resolve {host}: {exc}") from exc
        addresses: list[IPAddress] = []
        for *_, sockaddr in answers:
            ip = parse_ip_literal(str(sockaddr[0]))
            if ip is not None and ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise ResolutionError(f"cannot resolve {host}: no addresses")
        return addresses


@dataclass(frozen=True)
class CheckedTarget:
    """A URL whose host was resolved and checked; connect to `ip`, never to `host`."""

    scheme: str
    host: str
    port: int
    ip: IPAddress


class Guard:
    """Apply an `AddressPolicy` to URLs, resolving each host exactly once per check."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None = None) -> None:
        self.policy = policy
        self.resolver: Resolver = resolver or SystemResolver()

    async def check_url(self, url: str) -> CheckedTarget:
        """Raise a `NetguardError` unless `url` is http(s) to an allowed address."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise UnsupportedURLError(f"not a valid URL: {url!r}: {exc}") from exc
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise UnsupportedURLError(
                f"only http and https URLs are allowed, not {scheme or 'none'!r}"
            )
        host = parts.hostname
        if not host:
            raise UnsupportedURLError(f"URL has no host: {url!r}")
        port = port or DEFAULT_PORTS[scheme]
        ip = await self.check_host(host, port)
        return CheckedTarget(scheme=scheme, host=host, port=port, ip=ip)

    async def check_host(self, host: str, port: int) -> IPAddress:
        """The address to connect to for `host`; refused if any answer is not allowed."""
        literal = parse_ip_literal(host)
        name = host.lower().rstrip(".")
        if literal is not None:
            addresses = [literal]
        elif name == "localhost" or name.endswith(".localhost"):
            # RFC 6761: browsers answer these with loopback without asking DNS.
            addresses = [LOOPBACK]
        else:
            addresses = await self.resolver.resolve(host, port)
        for ip in addresses:
            refusal = self.policy.refusal(host, ip)
            if refusal is not None:
                raise BlockedAddressError(f"refused: {refusal}")
        return addresses[0]
