"""Which addresses are refused, and which the operator opened with `allow_hosts`."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# NAT64 prefixes carry an IPv4 address in their low 32 bits (RFC 6052, RFC 8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
# Legacy IPv4 spellings that resolvers and browsers accept: 2130706433, 0177.0.0.1, 0x7f.1, 127.1.
_LEGACY_IPV4 = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}\.?")


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells, in any notation a resolver accepts; None for a name."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare.rstrip(".")))
        except OSError:
            return None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why `ip` must not be contacted, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = blocked_reason(embedded)
            if inner is not None:
                return f"an IPv6 form of {embedded}, {inner}"
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_unspecified, "unspecified"),
        (ip == _BROADCAST, "broadcast"),
        (ip.is_link_local, "link-local"),
        # fec0::/10 is deprecated (RFC 3879) but still routed inside some networks, and
        # Python counts it as global
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not globally routable"),
    )
    for hit, reason in checks:
        if hit:
            article = "an" if reason[0] in "aeiou" else "a"
            return f"{article} {reason} address"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Refuse non-public addresses, except hosts and networks the operator allowed.

    `allow_hosts` entries are host names (`minio`, or `*.internal` for a whole domain),
    IP addresses, or CIDR networks (`10.0.0.0/8`).
    """

    hostnames: frozenset[str] = frozenset()
    domain_suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_allow_hosts(cls, entries: Iterable[str]) -> AddressPolicy:
        hostnames: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            literal = parse_ip_literal(entry)
            if literal is not None:
                networks.append(ipaddress.ip_network(literal))
            elif "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError as exc:
                    raise ValueError(f"allow_hosts: {raw!r} is not a valid network: {exc}") from exc
            elif entry.startswith("*."):
                suffixes.append(entry[1:])
            else:
                hostnames.add(entry.rstrip("."))
        return cls(frozenset(hostnames), tuple(suffixes), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        return name in self.hostnames or any(name.endswith(s) for s in self.domain_suffixes)

    def address_allowed(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)

    def refusal(self, host: str, ip: IPAddress) -> str | None:
        """Why connecting to `ip` for `host` is refused, or None when it is allowed."""
        if self.host_allowed(host) or self.address_allowed(ip):
            return None
        reason = blocked_reason(ip)
        if reason is None:
            return None
        if parse_ip_literal(host) == ip:
            subject = host if host.strip("[]") == str(ip) else f"{host} ({ip})"
            return f"{subject} is {reason}"
        return f"{host} resolves to {ip}, {reason}"
