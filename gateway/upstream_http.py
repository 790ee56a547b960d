"""The upstream HTTP client: httpx's API on top of aiohttp's connection pool.

Why: under load the profile of the gateway was dominated by httpcore's pool (it rescans every
connection, polling each socket, for every request and every response close), about 2 ms of
CPU per upstream call at 32 concurrent requests on the benchmark machine; aiohttp's pool cost
about 0.45 ms for the same calls. Providers keep using `httpx.AsyncClient`, so only this
transport knows about aiohttp.

Errors are mapped here, at the transport boundary, to the httpx exceptions httpcore raises
for the same failure, so `providers.errors.error_from_transport` sees what it always saw:

- no connection (refused, DNS)       -> `httpx.ConnectError`
- certificate or TLS handshake fails -> `gateway.errors.UpstreamTlsError`: the one gateway
  error raised here, because "cannot connect" would hide what to fix (see upstream_tls.py)
- connect timed out                  -> `httpx.ConnectTimeout`
- no bytes within the read timeout   -> `httpx.ReadTimeout`
- peer closed mid-message, bad HTTP  -> `httpx.RemoteProtocolError`
- other socket errors                -> `httpx.ReadError`
- invalid URL                        -> `httpx.UnsupportedProtocol`
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx
from httpx._decoders import LineDecoder, TextDecoder

from gateway.context import ProviderRemaining, current_context
from gateway.errors import UpstreamTlsError
from gateway.upstream_tls import UpstreamTls

# A request that failed on the wire is never sent again from here: if the upstream read it
# before the connection dropped, the same generation would run, and be billed, twice, and no
# client-side signal tells "never arrived" from "arrived, then the peer died". aiohttp itself
# resends only idempotent methods on a reused connection it found dead. A POST that fails
# goes to the router as a connection error; its retry policy (`num_retries`, per request or
# per config) decides whether a second attempt is wanted.
#
# The stale keep-alive race (the upstream times an idle connection out just as it is reused)
# is kept rare instead by expiring idle connections before common servers do (uvicorn: 5 s).
IDLE_CONNECTION_EXPIRY = 4.0
REMAINING_REQUESTS = "x-ratelimit-remaining-requests"
REMAINING_TOKENS = "x-ratelimit-remaining-tokens"


@contextmanager
def _mapped_errors(request: httpx.Request | None) -> Iterator[None]:
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except (TimeoutError, aiohttp.SocketTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except aiohttp.ClientConnectorCertificateError as exc:
        cause = exc.certificate_error
        reason = getattr(cause, "verify_message", None) or str(cause)
        raise UpstreamTlsError(
            f"the TLS certificate of upstream {exc.host}:{exc.port} failed verification "
            f"({reason}); if a private CA signed it, set ssl_verify to that CA's bundle "
            "(litellm_params.ssl_verify of the deployment, or litellm_settings.ssl_verify)"
        ) from exc
    except aiohttp.ClientConnectorSSLError as exc:
        reason = getattr(exc.os_error, "reason", None) or str(exc.os_error)
        raise UpstreamTlsError(
            f"the TLS handshake with upstream {exc.host}:{exc.port} failed ({reason})"
        ) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=request) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except aiohttp.ClientResponseError as exc:  # malformed status line or headers
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    """A whole upstream response: what the providers read of an `httpx.Response`.
    `headers` match names case-insensitively, like `httpx.Headers`."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


class UpstreamStream(Protocol):
    """An upstream response held open: what the providers read of a streamed
    `httpx.Response`. Reading raises `httpx.HTTPError`s."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    async def aread(self) -> bytes: ...

    def aiter_lines(self) -> AsyncIterator[str]: ...


class _DirectStream:
    """An aiohttp response read the way `httpx.Response.aiter_lines` reads one: decoded with
    the charset of its Content-Type (else UTF-8, bad bytes replaced), split by httpx's own
    line decoder, so a provider sees the same lines on either path."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def aread(self) -> bytes:
        with _mapped_errors(None):
            return await self._response.read()

    async def aiter_lines(self) -> AsyncIterator[str]:
        text = TextDecoder(encoding=_known_charset(self._response.charset) or "utf-8")
        lines = LineDecoder()
        with _mapped_errors(None):
            # readany() hands over whatever has arrived, so stream chunks are never held back
            while chunk := await self._response.content.readany():
                if decoded := text.decode(chunk):
                    for line in lines.decode(decoded):
                        yield line
        if tail := text.flush():
            for line in lines.decode(tail):
                yield line
        for line in lines.flush():
            yield line


def _known_charset(charset: str | None) -> str | None:
    if charset is None:
        return None
    try:
        codecs.lookup(charset)
    except LookupError:
        return None
    return charset


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors(self._request):
            # readany() hands over whatever has arrived, so stream chunks are never held back
            while chunk := await self._response.content.readany():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """`handle_async_request` and `aclose`, like every httpx transport. The aiohttp session
    is created on first use because it must be made inside the running event loop."""

    def __init__(
        self, *, max_connections: int, keepalive_expiry: float, tls: UpstreamTls | None = None
    ) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None

    def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            keepalive_timeout=self._keepalive_expiry,
            ssl=self._tls.default if self._tls is not None else True,
        )
        # httpx already sends User-Agent/Accept/Accept-Encoding, so aiohttp adds none of its
        # own (`skip_auto_headers` would cost a sorted multidict per request); no cookie jar.
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
        # `Headers.multi_items()` re-detects the encoding of every header on each call
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        url = str(request.url)
        # A host with its own ssl_verify gets its context; every other the connector's.
        own_tls = self._tls.override_for(request.url) if self._tls is not None else None
        with _mapped_errors(request):
            response = await self._session.request(
                request.method,
                url,
                headers=headers,
                data=body or None,
                allow_redirects=False,
                compress=None,
                timeout=client_timeout,
                ssl=own_tls or True,
            )
        _note_provider_remaining(response)
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

    async def post(
        self,
        url: str | httpx.URL,
        content: bytes,
        headers: Mapping[str, str],
        upstream_timeout: float,
    ) -> UpstreamReply:
        """The same exchange as `handle_async_request` with the body read whole, without an
        `httpx.Request` or `httpx.Response`: building and reading those was a fifth of the
        gateway's CPU per request. aiohttp decodes a compressed body here, where httpx's
        `Response.content` would have."""
        response = await self._send(url, content, headers, upstream_timeout)
        try:
            with _mapped_errors(None):
                body = await response.read()
        finally:
            response.release()
        return UpstreamReply(response.status, response.headers, body)

    async def _send(
        self,
        url: str | httpx.URL,
        content: bytes,
        headers: Mapping[str, str],
        upstream_timeout: float,
    ) -> aiohttp.ClientResponse:
        if self._session is None:
            self._session = self._open_session()
        client_timeout = aiohttp.ClientTimeout(
            total=None,
            connect=upstream_timeout,
            sock_connect=upstream_timeout,
            sock_read=upstream_timeout,
        )
        own_tls = None
        if self._tls is not None and self._tls.overrides:  # else skip parsing the URL
            own_tls = self._tls.override_for(url if isinstance(url, httpx.URL) else httpx.URL(url))
        with _mapped_errors(None):
            response = await self._session.request(
                "POST",
                str(url),
                headers=headers,
                data=content or None,
                allow_redirects=False,
                compress=None,
                timeout=client_timeout,
                ssl=own_tls or True,
                auto_decompress=True,
            )
        _note_provider_remaining(response)
        return response

    @asynccontextmanager
    async def open(
        self,
        url: str | httpx.URL,
        content: bytes,
        headers: Mapping[str, str],
        upstream_timeout: float,
    ) -> AsyncIterator[_DirectStream]:
        """`post` with the response held open until the block ends."""
        response = await self._send(url, content, headers, upstream_timeout)
        try:
            yield _DirectStream(response)
        finally:
            response.release()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _header_int(response: aiohttp.ClientResponse, name: str) -> int | None:
    value = response.headers.get(name)
    return int(value) if value is not None and value.isdigit() else None


def _note_provider_remaining(response: aiohttp.ClientResponse) -> None:
    """Keep the provider's rate-limit headroom on the request's context, for the
    `litellm_remaining_{requests,tokens}_metric` gauges (providers only see bodies)."""
    if response.status >= 400:  # an error's headers could be read as another deployment's
        return
    if REMAINING_REQUESTS not in response.headers and REMAINING_TOKENS not in response.headers:
        return
    ctx = current_context()
    if ctx is not None:
        ctx.provider_remaining = ProviderRemaining(
            _header_int(response, REMAINING_REQUESTS), _header_int(response, REMAINING_TOKENS)
        )


class UpstreamClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` whose `send` goes straight to the transport.

    httpx's own `send` runs the auth flow, the redirect loop, a cookie jar and an INFO log
    line for every call: together about a third of the client's cost in the gateway's
    profile, and none of it wanted. Providers set every header themselves, the gateway
    never follows redirects, and a cookie one upstream sets must not ride along on another
    tenant's request. An explicit `auth=` or `follow_redirects=True` still takes httpx's
    full path."""

    def __init__(self, transport: AiohttpTransport, timeout: httpx.Timeout) -> None:
        super().__init__(transport=transport, timeout=timeout, follow_redirects=False)
        self._upstream = transport
        # httpx's default headers (Accept, Accept-Encoding, Connection, User-Agent), which
        # every request built by httpx carries under the caller's own
        self._default_headers = {k.lower(): v for k, v in self.headers.items()}

    async def post_direct(
        self,
        url: str | httpx.URL,
        content: bytes,
        headers: Mapping[str, str],
        upstream_timeout: float,
    ) -> UpstreamReply:
        """`post(url, content=..., headers=..., timeout=...)` with the body read whole, the
        same headers on the wire, and the same httpx exceptions, minus httpx's objects."""
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        return await self._upstream.post(url, content, self._sent(headers), upstream_timeout)

    def stream_direct(
        self,
        url: str | httpx.URL,
        content: bytes,
        headers: Mapping[str, str],
        upstream_timeout: float,
    ) -> AbstractAsyncContextManager[UpstreamStream]:
        """`stream("POST", ...)` on the direct path (see `post_direct`)."""
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        return self._upstream.open(url, content, self._sent(headers), upstream_timeout)

    def _sent(self, headers: Mapping[str, str]) -> dict[str, str]:
        own = {k.lower() for k in headers}
        sent = {k: v for k, v in self._default_headers.items() if k not in own}
        sent.update(headers)
        return sent

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
        response = await self._upstream.handle_async_request(request)
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response


async def post_bytes(
    http: httpx.AsyncClient,
    url: str | httpx.URL,
    content: bytes,
    headers: Mapping[str, str],
    upstream_timeout: float,
) -> UpstreamReply:
    """A POST whose response is read whole, for the providers: the gateway's own client
    takes the direct path; any other `httpx.AsyncClient` (a test's `MockTransport`, an
    embedding application's client) goes through httpx as before. Raises `httpx.HTTPError`s.

    A `str` URL goes on the wire as it is, so it must be one httpx rendered (`str(httpx.URL)`);
    pass anything else as an `httpx.URL`, whose normalisation is then the same as httpx's."""
    if isinstance(http, UpstreamClient):
        return await http.post_direct(url, content, headers, upstream_timeout)
    response = await http.post(
        url, content=content, headers=dict(headers), timeout=upstream_timeout
    )
    return UpstreamReply(response.status_code, response.headers, response.content)


def stream_post(
    http: httpx.AsyncClient,
    url: str | httpx.URL,
    content: bytes,
    headers: Mapping[str, str],
    upstream_timeout: float,
) -> AbstractAsyncContextManager[UpstreamStream]:
    """A POST whose response is read as it arrives, for the providers; the same two paths
    as `post_bytes`. Raises `httpx.HTTPError`s, on opening and on reading."""
    if isinstance(http, UpstreamClient):
        return http.stream_direct(url, content, headers, upstream_timeout)
    return http.stream(
        "POST", url, content=content, headers=dict(headers), timeout=upstream_timeout
    )


def build_upstream_client(
    *,
    max_connections: int,
    keepalive_expiry: float,
    timeout: httpx.Timeout,
    tls: UpstreamTls | None = None,
) -> httpx.AsyncClient:
    """`tls`: the upstreams' TLS verification; None keeps aiohttp's default (the system CAs)."""
    transport = AiohttpTransport(
        max_connections=max_connections, keepalive_expiry=keepalive_expiry, tls=tls
    )
    return UpstreamClient(transport, timeout)
