"""SSRF protection shared by the fetch and browser servers.

A URL is allowed only if every address its host resolves to is a public unicast address,
or the operator opened it with `allow_hosts` (hostnames, IPs, CIDRs). Callers connect to
the address that was checked, never re-resolving, so DNS rebinding cannot slip through.
"""

from mcp_servers._netguard.errors import (
    BlockedAddressError,
    NetguardError,
    ResolutionError,
    UnsupportedURLError,
)
from mcp_servers._netguard.guard import CheckedTarget, Guard, Resolver, SystemResolver
from mcp_servers._netguard.policy import AddressPolicy, blocked_reason, parse_ip_literal
from mcp_servers._netguard.proxy import REFUSED_HEADER, guarded_proxy
from mcp_servers._netguard.transport import GuardedTransport

__all__ = [
    "REFUSED_HEADER",
    "AddressPolicy",
    "BlockedAddressError",
    "CheckedTarget",
    "Guard",
    "GuardedTransport",
    "NetguardError",
    "ResolutionError",
    "Resolver",
    "SystemResolver",
    "UnsupportedURLError",
    "blocked_reason",
    "guarded_proxy",
    "parse_ip_literal",
]
