"""The upstream HTTP client: the shared aiohttp transport (`common/aiohttp_transport.py`,
where the why and the error mapping are), plus what only the gateway needs:

- per-host TLS contexts (a deployment's `ssl_verify`), and certificate or handshake
  failures raised as `gateway.errors.UpstreamTlsError`, because "cannot connect" would hide
  what to fix (see upstream_tls.py);
- the provider's rate-limit headroom read off each response's head;
- a direct path for the providers' JSON POSTs and streams (`post_bytes`, `stream_post`)
  that skips httpx's request and response objects.

A POST that fails on the wire goes to the router as a connection error, never sent again
from here; its retry policy (`num_retries`, per request or per config) decides whether a
second attempt is wanted.
"""

from __future__ import annotations

import codecs
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx
from httpx._decoders import LineDecoder, TextDecoder

from common.aiohttp_transport import AiohttpTransport, DirectClient, mapped_errors
from gateway.context import ProviderRemaining, current_context
from gateway.errors import UpstreamTlsError
from gateway.upstream_tls import UpstreamTls

REMAINING_REQUESTS = "x-ratelimit-remaining-requests"
REMAINING_TOKENS = "x-ratelimit-remaining-tokens"


def _tls_failure(exc: aiohttp.ClientSSLError) -> UpstreamTlsError:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cause = exc.certificate_error
        reason = getattr(cause, "verify_message", None) or str(cause)
        return UpstreamTlsError(
            f"the TLS certificate of upstream {exc.host}:{exc.port} failed verification "
            f"({reason}); if a private CA signed it, set ssl_verify to that CA's bundle "
            "(litellm_params.ssl_verify of the deployment, or litellm_settings.ssl_verify)"
        )
    reason = getattr(exc.os_error, "reason", None) or str(exc.os_error)
    return UpstreamTlsError(
        f"the TLS handshake with upstream {exc.host}:{exc.port} failed ({reason})"
    )


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
        with mapped_errors(None, _tls_failure):
            return await self._response.read()

    async def aiter_lines(self) -> AsyncIterator[str]:
        text = TextDecoder(encoding=_known_charset(self._response.charset) or "utf-8")
        lines = LineDecoder()
        with mapped_errors(None, _tls_failure):
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


class UpstreamTransport(AiohttpTransport):
    """The shared transport with the upstreams' TLS and headroom, and the direct path."""

    def __init__(
        self, *, max_connections: int, keepalive_expiry: float, tls: UpstreamTls | None = None
    ) -> None:
        super().__init__(
            max_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
            default_ssl=tls.default if tls is not None else True,
            tls_failure=_tls_failure,
        )
        self._tls = tls

    def ssl_for(self, url: httpx.URL) -> ssl.SSLContext | None:
        return self._tls.override_for(url) if self._tls is not None else None

    def on_response(self, response: aiohttp.ClientResponse) -> None:
        _note_provider_remaining(response)

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
            with mapped_errors(None, _tls_failure):
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
        client_timeout = aiohttp.ClientTimeout(
            total=None,
            connect=upstream_timeout,
            sock_connect=upstream_timeout,
            sock_read=upstream_timeout,
        )
        own_tls = None
        if self._tls is not None and self._tls.overrides:  # else skip parsing the URL
            own_tls = self._tls.override_for(url if isinstance(url, httpx.URL) else httpx.URL(url))
        with mapped_errors(None, _tls_failure):
            response = await self.session.request(
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


class UpstreamClient(DirectClient):
    """The shared `DirectClient` plus the providers' direct path (`post_direct`,
    `stream_direct`), which sends the same headers httpx would have."""

    def __init__(self, transport: UpstreamTransport, timeout: httpx.Timeout) -> None:
        super().__init__(transport, timeout)
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
    transport = UpstreamTransport(
        max_connections=max_connections, keepalive_expiry=keepalive_expiry, tls=tls
    )
    return UpstreamClient(transport, timeout)
