"""Build the MCP transport for one configured server: streamable HTTP, legacy SSE or stdio."""

from __future__ import annotations

import ssl
from functools import partial
from typing import Any

import httpx2
from mcp import StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from middleware.config_sections import McpServerEntry
from middleware.context import REQUEST_ID_HEADER, current_request_id
from middleware.tracing import trace_header_hooks


def server_headers(entry: McpServerEntry) -> dict[str, str]:
    headers = dict(entry.headers)
    if entry.auth_value:
        kind = (entry.auth_type or "bearer").lower()
        if kind in {"bearer", "bearer_token", "token"}:
            headers["Authorization"] = f"Bearer {entry.auth_value}"
        elif kind in {"api_key", "x-api-key"}:
            headers["x-api-key"] = entry.auth_value
        elif kind == "basic":
            headers["Authorization"] = f"Basic {entry.auth_value}"
        else:
            headers["Authorization"] = entry.auth_value
    return headers


async def _stamp_request_id(request: httpx2.Request) -> None:
    # The SDK sends each message in its sender's context, so this sees the caller's id.
    request_id = current_request_id()
    if request_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id


def http_client(
    entry: McpServerEntry, timeout: float, verify: ssl.SSLContext | None = None
) -> httpx2.AsyncClient:
    """`verify`: the server's TLS context (mcp_pool/tls.py); None keeps httpx2's default."""
    return httpx2.AsyncClient(
        headers=server_headers(entry),
        timeout=httpx2.Timeout(timeout, read=max(timeout, 300.0)),
        event_hooks={"request": [_stamp_request_id, *trace_header_hooks()]},
        verify=verify if verify is not None else True,
    )


def _sse_http_client(
    verify: ssl.SSLContext,
    headers: dict[str, str] | None = None,
    timeout: httpx2.Timeout | None = None,
    auth: httpx2.Auth | None = None,
) -> httpx2.AsyncClient:
    """The SSE transport's client factory (`sse_client` always passes its timeouts), with the
    server's TLS context."""
    return httpx2.AsyncClient(
        headers=headers, timeout=timeout or httpx2.Timeout(30.0), auth=auth, verify=verify
    )


def make_transport(
    entry: McpServerEntry, http: httpx2.AsyncClient | None, verify: ssl.SSLContext | None = None
) -> Any:
    """The object `mcp.Client` connects through (a transport context or stdio params)."""
    if entry.transport == "stdio":
        if not entry.command:
            raise ValueError("stdio server without a command")
        return StdioServerParameters(command=entry.command, args=entry.args, env=entry.env or None)
    assert entry.url is not None  # checked when settings load
    if entry.transport == "sse":
        if verify is None:
            return sse_client(entry.url, headers=server_headers(entry))
        return sse_client(
            entry.url,
            headers=server_headers(entry),
            httpx_client_factory=partial(_sse_http_client, verify),
        )
    return streamable_http_client(entry.url, http_client=http)
