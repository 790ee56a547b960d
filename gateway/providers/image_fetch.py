"""Fetch client-supplied image URLs without letting them reach internal addresses (SSRF).

A URL's host is resolved once, every answer is checked, and the socket goes to the checked
address (the Host header and TLS server name keep the original name), so a DNS answer that
changes between check and connect cannot slip through. Redirects are followed by hand and each
hop is checked the same way. Operators open internal hosts with
`general_settings.image_fetch_allow_hosts` (host names, `*.domain`, IPs or CIDR networks).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import anyio
import httpx

from gateway.errors import BadRequestError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}


def _ip_literal(host: str) -> IPAddress | None:
    bare = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    try:  # legacy spellings a resolver accepts: 2130706433, 0x7f.1, 127.1
        return ipaddress.IPv4Address(socket.inet_aton(bare.rstrip(".")))
    except (OSError, UnicodeError, ValueError):
        return None


def _not_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and _not_public(embedded):
            return True
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


@dataclass(frozen=True, slots=True)
class ImageFetchPolicy:
    """Public addresses only, plus what the operator allowed."""

    hostnames: frozenset[str] = frozenset()
    domain_suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_allow_hosts(cls, entries: Iterable[str]) -> ImageFetchPolicy:
        hostnames: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            literal = _ip_literal(entry) if entry else None
            if not entry:
                continue
            if literal is not None:
                networks.append(ipaddress.ip_network(literal))
            elif "/" in entry:
                networks.append(ipaddress.ip_network(entry, strict=False))
            elif entry.startswith("*."):
                suffixes.append(entry[1:])
            else:
                hostnames.add(entry.rstrip("."))
        return cls(frozenset(hostnames), tuple(suffixes), tuple(networks))

    def allows(self, host: str, ip: IPAddress) -> bool:
        name = host.lower().rstrip(".")
        if name in self.hostnames or any(name.endswith(s) for s in self.domain_suffixes):
            return True
        if any(ip.version == net.version and ip in net for net in self.networks):
            return True
        return not _not_public(ip)


async def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = _ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise BadRequestError(f"could not resolve image host {host!r}", param="messages") from exc
    found = [_ip_literal(str(sockaddr[0])) for *_, sockaddr in answers]
    addresses = [ip for ip in found if ip is not None]
    if not addresses:
        raise BadRequestError(f"could not resolve image host {host!r}", param="messages")
    return addresses


async def _pinned_request(policy: ImageFetchPolicy, url: str) -> httpx.Request:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadRequestError(f"invalid image URL {url[:80]!r}", param="messages") from exc
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        raise BadRequestError(f"unsupported image URL {url[:80]!r}", param="messages")
    addresses = await _resolve(host, port or DEFAULT_PORTS[scheme])
    for ip in addresses:
        if not policy.allows(host, ip):
            raise BadRequestError(
                f"image URL host {host!r} is not a public address; refused",
                code="image_url_refused",
                param="messages",
            )
    request = httpx.Request("GET", url)
    request.url = request.url.copy_with(host=str(addresses[0]))
    request.headers["host"] = parts.netloc.rpartition("@")[2]
    if scheme == "https":
        request.extensions = {**request.extensions, "sni_hostname": host}
    return request


async def guarded_get(
    http: httpx.AsyncClient, policy: ImageFetchPolicy, url: str, seconds: float
) -> httpx.Response:
    """GET `url` (following up to 5 redirects), refusing any hop to a non-public address."""
    for _ in range(MAX_REDIRECTS + 1):
        request = await _pinned_request(policy, url)
        request.extensions = {**request.extensions, "timeout": httpx.Timeout(seconds).as_dict()}
        response = await http.send(request, follow_redirects=False)
        location = response.headers.get("location")
        if response.status_code not in _REDIRECTS or not location:
            return response
        await response.aclose()
        url = urljoin(url, location)
    raise BadRequestError("image URL redirected too many times", param="messages")
