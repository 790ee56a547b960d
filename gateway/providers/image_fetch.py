"""Fetch client-supplied image URLs without letting them reach internal addresses (SSRF).

The address rules are `common.netguard`'s, the same the fetch and browser servers apply: a URL's
host is resolved once, every answer is checked, and the socket goes to the checked address, so
a DNS answer that changes between check and connect cannot slip through. Redirects are followed
by hand and each hop is checked the same way. Operators open internal hosts with
`general_settings.image_fetch_allow_hosts` (host names, `*.domain`, IPs or CIDR networks).
"""

from __future__ import annotations

from urllib.parse import urljoin

import httpx

from common.netguard import (
    AddressPolicy,
    BlockedAddressError,
    Guard,
    NetguardError,
    ResolutionError,
    pin_to_target,
)
from gateway.errors import BadRequestError

MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}


def _refusal(url: str, exc: NetguardError) -> BadRequestError:
    """The client's 400 for a URL the guard refused (the one place netguard errors map)."""
    if isinstance(exc, BlockedAddressError):
        return BadRequestError(
            f"image URL {url[:80]!r} is not a public address; {exc}",
            code="image_url_refused",
            param="messages",
        )
    if isinstance(exc, ResolutionError):
        return BadRequestError(f"could not fetch image {url[:80]!r}: {exc}", param="messages")
    return BadRequestError(f"unsupported image URL {url[:80]!r}: {exc}", param="messages")


async def guarded_get(
    http: httpx.AsyncClient, policy: AddressPolicy, url: str, seconds: float
) -> httpx.Response:
    """GET `url` (following up to 5 redirects), refusing any hop to a non-public address."""
    guard = Guard(policy)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target = await guard.check_url(url)
        except NetguardError as exc:
            raise _refusal(url, exc) from exc
        request = httpx.Request("GET", url)
        pin_to_target(request, target)
        request.extensions = {**request.extensions, "timeout": httpx.Timeout(seconds).as_dict()}
        response = await http.send(request, follow_redirects=False)
        location = response.headers.get("location")
        if response.status_code not in _REDIRECTS or not location:
            return response
        await response.aclose()
        url = urljoin(url, location)
    raise BadRequestError("image URL redirected too many times", param="messages")
