"""Tie browser contexts to MCP sessions at the HTTP layer.

Which session a tool call belongs to, and when that session ends, is visible only in HTTP:
streamable HTTP carries `Mcp-Session-Id` and ends with DELETE (or the SDK's idle timeout);
legacy SSE carries `?session_id=` on its POSTs and ends when the GET stream closes. The
2026 per-request protocol has no sessions at all, so this server answers it with
"unsupported protocol version", which makes clients fall back to the initialize handshake.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from mcp_types import UNSUPPORTED_PROTOCOL_VERSION
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_servers._http import MCP_PATH, SSE_MESSAGE_PATH, SSE_PATH
from mcp_servers.browser._errors import NoSessionError

SESSION_HEADER = "mcp-session-id"
MAX_PROBE_BODY = 1_000_000
_SSE_SESSION = re.compile(rb"session_id=([0-9a-fA-F-]+)")

OnSessionEnd = Callable[[str], Awaitable[None]]


def session_key(request: Any) -> str:
    """The key of the MCP session a tool call arrived on (see module docstring)."""
    if isinstance(request, Request):
        session_id = request.headers.get(SESSION_HEADER)
        if session_id:
            return f"mcp:{session_id}"
        if request.url.path.startswith(SSE_MESSAGE_PATH):
            sse_id = request.query_params.get("session_id")
            if sse_id:
                return f"sse:{sse_id}"
    raise NoSessionError(
        "the browser keeps a page per MCP session; connect with a session "
        "(streamable HTTP with the initialize handshake, or SSE)"
    )


class SessionLifecycle:
    """Pure ASGI middleware: report ended sessions, refuse the sessionless protocol."""

    def __init__(self, app: ASGIApp, on_end: OnSessionEnd) -> None:
        self.app = app
        self.on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        headers = Headers(scope=scope)
        if path == MCP_PATH and headers.get("mcp-protocol-version") in MODERN_PROTOCOL_VERSIONS:
            await self._refuse_sessionless(scope, receive, send, headers)
            return
        if path == MCP_PATH and method == "DELETE" and headers.get(SESSION_HEADER):
            await self._watch_delete(scope, receive, send, f"mcp:{headers[SESSION_HEADER]}")
            return
        if path == SSE_PATH and method == "GET":
            await self._watch_sse(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _watch_delete(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:
        status = 0

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watching_send)
        if 200 <= status < 300:
            await self.on_end(key)

    async def _watch_sse(self, scope: Scope, receive: Receive, send: Send) -> None:
        key: str | None = None

        async def watching_send(message: Message) -> None:
            nonlocal key
            if key is None and message["type"] == "http.response.body":
                found = _SSE_SESSION.search(message.get("body", b""))
                if found:
                    key = f"sse:{found.group(1).decode().replace('-', '')}"
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            if key is not None:
                await self.on_end(key)

    async def _refuse_sessionless(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers
    ) -> None:
        body = b""
        more = True
        while more and len(body) <= MAX_PROBE_BODY:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        request_id: Any = None
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                request_id = parsed.get("id")
        except ValueError:
            pass
        error = {
            "code": UNSUPPORTED_PROTOCOL_VERSION,
            "message": "Unsupported protocol version: the browser server needs a session",
            "data": {
                "supported": list(HANDSHAKE_PROTOCOL_VERSIONS),
                "requested": headers.get("mcp-protocol-version"),
            },
        }
        response = JSONResponse(
            {"jsonrpc": "2.0", "id": request_id, "error": error}, status_code=400
        )
        await response(scope, receive, send)
