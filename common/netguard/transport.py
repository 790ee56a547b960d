"""An httpx transport that connects only to checked addresses."""

from __future__ import annotations

import httpx

from common.netguard.guard import Guard
from common.netguard.pinning import pin_to_target


class GuardedTransport(httpx.AsyncBaseTransport):
    """Check each request's host, then send it to the checked IP itself.

    The Host header and the TLS server name keep the original host name, so virtual
    hosting and certificate checks work; only the socket goes to the pinned address.
    Every redirect hop is a new request through here, so each one is checked too.
    """

    def __init__(self, guard: Guard, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.guard = guard
        self.inner = inner or httpx.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = await self.guard.check_url(str(request.url))
        pin_to_target(request, target)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
