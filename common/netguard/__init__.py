"""SSRF protection: the one guard used by the fetch server, the browser's proxy and the gateway's
image fetches.

A URL is allowed only if every address its host resolves to is a public unicast address,
or the operator opened it with `allow_hosts` (hostnames, IPs, CIDRs). Callers connect to
the address that was checked, never re-resolving, so DNS rebinding cannot slip through.
"""

from common.netguard.errors import (
    BlockedAddressError,
    NetguardError,
    ResolutionError,
    UnsupportedURLError,
)
from common.netguard.guard import CheckedTarget, Guard, Resolver, SystemResolver
from common.netguard.pinning import pin_to_target
from common.netguard.policy import AddressPolicy, blocked_reason, parse_ip_literal
from common.netguard.proxy import REFUSED_HEADER, guarded_proxy
from common.netguard.transport import GuardedTransport

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
    "pin_to_target",
]
