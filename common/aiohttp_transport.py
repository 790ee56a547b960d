"""httpx's client API on top of aiohttp's connection pool, for the gateway's upstream calls
and the middleware's calls to the gateway.

Why: httpcore's connection pool rescans every pooled connection, polling each socket, for
every request and every response close, so its cost per call grows with the number of
connections in flight. Under load that was most of the gateway's upstream cost (about 2 ms
of CPU per call at 32 concurrent requests, against 0.45 ms on aiohttp) and 36% of the
middleware's CPU for a chat without tool calls at 64 clients. aiohttp's pool hands out an
idle connection without a scan. Callers keep `httpx.AsyncClient`; only this module (and the
gateway's direct path built on it, `gateway/upstream_http.py`) knows about aiohttp.

Failures are raised as the httpx exceptions httpcore raises for the same failure, so each
caller maps them at its own boundary as before:

- no connection (refused, DNS)       -> `httpx.ConnectError`
- certificate or TLS handshake fails -> `httpx.ConnectError`, or what the transport's
  `tls_failure` makes of it (the gateway names the setting to fix)
- connect timed out                  -> `httpx.ConnectTimeout`
- no bytes within the read timeout   -> `httpx.ReadTimeout`
- peer closed mid-message, bad HTTP  -> `httpx.RemoteProtocolError`
- other socket errors                -> `httpx.ReadError`
- invalid URL                        -> `httpx.UnsupportedProtocol`

A request that failed on the wire is never sent again from here: if the peer read it before
the connection dropped, the same work would run (and, upstream, be billed) twice, and no
client-side signal tells "never arrived" from "arrived, then the peer died". The stale
keep-alive race (the server times an idle connection out just as it is reused) is kept rare
instead by expiring idle connections before common servers do (uvicorn: 5 s).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import aiohttp
import httpx

IDLE_CONNECTION_EXPIRY = 4.0

# What a certificate or handshake failure becomes instead of `httpx.ConnectError`.
TlsFailure = Callable[[aiohttp.ClientSSLError], Exception]
# Writes headers that come from the call's context (the trace context) into a dict.
HeaderStamp = Callable[[dict[str, str]], None]


@contextmanager
def mapped_errors(
    request: httpx.Request | None, tls_failure: TlsFailure | None = None
) -> Iterator[None]:
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except (TimeoutError, aiohttp.SocketTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        if tls_failure is not None and isinstance(exc, aiohttp.ClientSSLError):
            raise tls_failure(exc) from exc
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
    def __init__(
        self,
        response: aiohttp.ClientResponse,
        request: httpx.Request,
        tls_failure: TlsFailure | None,
    ) -> None:
        self._response = response
        self._request = request
        self._tls_failure = tls_failure

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with mapped_errors(self._request, self._tls_failure):
            # readany() hands over whatever has arrived, so streamed chunks are never held back
            while chunk := await self._response.content.readany():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """`handle_async_request` and `aclose`, like every httpx transport. The aiohttp session
    is made on first use, because it must be made inside the running event loop.

    `default_ssl`: the verification of every host (`True`: the system CAs);
    `tls_failure`: see `mapped_errors`; `stamp_headers`: called for every request, in the
    caller's context, with a dict whose items are sent as headers too (the trace context's
    `traceparent`): written straight into the outgoing request, a header skips httpx's
    header model, about twenty Python calls per header and request. Subclasses may choose a
    context per URL (`ssl_for`) and look at each response's head (`on_response`)."""

    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_expiry: float = IDLE_CONNECTION_EXPIRY,
        default_ssl: ssl.SSLContext | bool = True,
        tls_failure: TlsFailure | None = None,
        stamp_headers: HeaderStamp | None = None,
    ) -> None:
        self._max_connections = max_connections
        self.stamp_headers = stamp_headers
        self._keepalive_expiry = keepalive_expiry
        self._default_ssl = default_ssl
        self.tls_failure = tls_failure
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                keepalive_timeout=self._keepalive_expiry,
                ssl=self._default_ssl,
            )
            # httpx already sends User-Agent/Accept/Accept-Encoding, so aiohttp adds none of
            # its own (`skip_auto_headers` would cost a sorted multidict per request); no
            # cookie jar, so one caller's cookie never rides on another's call; bodies are
            # relayed as sent.
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
            )
        return self._session

    def ssl_for(self, url: httpx.URL) -> ssl.SSLContext | None:
        """A context of its own for this URL's host; None: the connector's default."""
        return None

    def on_response(self, response: aiohttp.ClientResponse) -> None:
        """Called with each response's head, before its body is read."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        client_timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeout.get("pool"),
            sock_connect=timeout.get("connect"),
            sock_read=timeout.get("read"),
        )
        body = await request.aread()
        # `Headers.multi_items()` re-detects the encoding of every header on each call
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        if self.stamp_headers is not None:
            stamped: dict[str, str] = {}
            self.stamp_headers(stamped)
            if stamped:
                headers += stamped.items()
        with mapped_errors(request, self.tls_failure):
            response = await self.session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                compress=None,
                timeout=client_timeout,
                ssl=self.ssl_for(request.url) or True,
            )
        self.on_response(response)
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, request, self.tls_failure),
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

    httpx's own `send` runs the auth flow, the redirect loop, a cookie jar and an INFO log
    line for every call: a third of the gateway's upstream client cost and a sixth of the
    middleware's CPU for a no-tool chat (py-spy), and none of it wanted. Callers set every
    header themselves, nothing here follows redirects, and a cookie one call brings back
    must not ride on another tenant's. An explicit `auth=` or `follow_redirects=True` still
    takes httpx's full path."""

    def __init__(self, transport: AiohttpTransport, timeout: httpx.Timeout) -> None:
        super().__init__(transport=transport, timeout=timeout, follow_redirects=False)
        self.direct_transport = transport

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
        response = await self.direct_transport.handle_async_request(request)
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response
