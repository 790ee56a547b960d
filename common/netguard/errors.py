"""Why a URL was refused.

NetguardError
 ├── UnsupportedURLError   not http(s), no host, or unparsable
 ├── ResolutionError       the host name does not resolve
 └── BlockedAddressError   the host is, or resolves to, a refused address
"""

from __future__ import annotations


class NetguardError(Exception):
    """A URL the guard will not let a server connect to."""


class UnsupportedURLError(NetguardError):
    """The URL is not an http(s) URL with a host."""


class ResolutionError(NetguardError):
    """The host name could not be resolved."""


class BlockedAddressError(NetguardError):
    """The destination address is private, loopback, link-local, multicast or reserved."""
