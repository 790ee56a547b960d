"""The transport under the middleware's one httpx client to the gateway: aiohttp's pool.

Why: httpcore's connection pool rescans every pooled connection, polling each socket, for
every request and every response close, so its cost per call grows with the number of
connections. With 64 clients in flight that was 36% of the middleware's CPU for a chat
without tool calls (bench/middleware_load.py, py-spy). aiohttp's pool hands out an idle
connection without a scan. `GatewayClient` keeps httpx's API; only this module knows aiohttp.
The gateway made the same move for its upstreams (gateway/upstream_http.py).

Failures are raised as the httpx exceptions httpcore raises for the same failure, so
`GatewayClient` maps them at its one boundary as before:

- no connection (refused, DNS, TLS)  -> `httpx.ConnectError`
- connect timed out                  -> `httpx.ConnectTimeout`
- no bytes within the read timeout   -> `httpx.ReadTimeout`
- peer closed mid-message, bad HTTP  -> `httpx.RemoteProtocolError`
- other socket errors                -> `httpx.ReadError`
- invalid URL                        -> `httpx.UnsupportedProtocol`
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx

# Idle connections are closed before a server with uvicorn's default keep-alive (5 s) would
# close them, so a reused connection is rarely one the gateway is closing at that moment (a
# POST that fails that way is not sent again: the gateway may have started it).
IDLE_CONNECTION_EXPIRY = 4.0


@contextmanager
def _mapped_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except (TimeoutError, aiohttp.SocketTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:  # includes certificate and TLS failures
        raise httpx.ConnectError(str(exc), request=request) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except aiohttp.ClientResponseError as exc:  # malformed status line or headers
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors(self._request):
            # readany() hands over whatever has arrived: streamed chunks are never held back
            while chunk := await self._response.content.readany():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """`handle_async_request` and `aclose`, like every httpx transport. The aiohttp session
    is made on first use, because it must be made inside the running event loop."""

    def __init__(self, *, max_connections: int, verify: ssl.SSLContext | None = None) -> None:
        self._max_connections = max_connections
        self._verify = verify
        self._session: aiohttp.ClientSession | None = None

    def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            keepalive_timeout=IDLE_CONNECTION_EXPIRY,
            ssl=self._verify if self._verify is not None else True,
        )
        # httpx already sends its default headers, so aiohttp adds none; no cookie jar (one
        # client's cookie must never ride on another's call); bodies are relayed as sent.
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._open_session()
        timeout = request.extensions.get("timeout", {})
        client_timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeout.get("pool"),
            sock_connect=timeout.get("connect"),
            sock_read=timeout.get("read"),
        )
        body = await request.aread()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        with _mapped_errors(request):
            response = await self._session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                compress=None,
                timeout=client_timeout,
            )
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, request),
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode(),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class DirectClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` whose `send` goes straight to the transport.

    httpx's own `send` runs the auth flow, the redirect loop, a cookie jar and a log line
    for every call: about a sixth of the middleware's CPU for a no-tool chat (py-spy, wrk
    -c64), and none of it wanted here. `GatewayClient` sets every header itself, the gateway
    never redirects, and a cookie one user's call brings back must not ride on another's.
    An explicit `auth=` or `follow_redirects=True` still takes httpx's full path."""

    def __init__(self, transport: httpx.AsyncBaseTransport, timeout: httpx.Timeout) -> None:
        super().__init__(transport=transport, timeout=timeout, follow_redirects=False)
        self._direct = transport

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: httpx._types.AuthTypes
        | httpx._client.UseClientDefault
        | None = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: bool | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        if auth is not httpx.USE_CLIENT_DEFAULT or follow_redirects is True:
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        response = await self._direct.handle_async_request(request)
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response
