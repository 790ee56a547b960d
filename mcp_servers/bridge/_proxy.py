"""Forward MCP requests from HTTP clients to stdio children.

`ChildPool` decides which child serves a request: one per client connection (default) or
one shared by all. A connection here is the SDK's per-client `Connection`: a streamable
HTTP session or an SSE stream opened with the initialize handshake. 2026-era requests
are sessionless (each brings its own short-lived connection), so they use the shared child. A connection's child is stopped by the
connection's own exit stack, so a client that leaves (DELETE, disconnect, idle timeout)
takes its process with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeGuard

import anyio
import anyio.abc
import mcp_types as types
import structlog
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

from mcp_servers.bridge._child import ChildSpec
from mcp_servers.bridge._supervisor import BridgeError, Child

logger = structlog.get_logger(__name__)

_STATE_KEY: Final = "toolrelay.bridge.child"

# Requests answered by the child, with the result model they are re-read into (so the
# bridge's outbound pipeline shapes them for the client's protocol era, which may not be
# the child's). Everything else (initialize, ping, discover, logging) is answered by the
# bridge's own MCP server.
FORWARDED: Final[dict[str, type[BaseModel]]] = {
    "tools/list": types.ListToolsResult,
    "tools/call": types.CallToolResult,
    "resources/list": types.ListResourcesResult,
    "resources/templates/list": types.ListResourceTemplatesResult,
    "resources/read": types.ReadResourceResult,
    "resources/subscribe": types.EmptyResult,
    "resources/unsubscribe": types.EmptyResult,
    "prompts/list": types.ListPromptsResult,
    "prompts/get": types.GetPromptResult,
    "completion/complete": types.CompleteResult,
}
# A list request for a capability the child lacks gets an empty list, not an error.
_EMPTY_LISTS: Final[dict[str, tuple[str, str]]] = {
    "tools/list": ("tools", "tools"),
    "resources/list": ("resources", "resources"),
    "resources/templates/list": ("resources", "resourceTemplates"),
    "prompts/list": ("prompts", "prompts"),
}


class ChildPool:
    """Owns every child; `bind(task_group)` must run (in the app lifespan) before use."""

    def __init__(
        self,
        spec: ChildSpec,
        *,
        shared: bool,
        start_timeout_s: float = 60.0,
        request_timeout_s: float = 300.0,
    ) -> None:
        self.spec = spec
        self.shared = shared
        self._start_timeout_s = start_timeout_s
        self._request_timeout_s = request_timeout_s
        self._host: anyio.abc.TaskGroup | None = None
        self._shared_child: Child | None = None
        self._session_children: set[Child] = set()

    def bind(self, host: anyio.abc.TaskGroup) -> None:
        self._host = host

    def _new_child(self) -> Child:
        if self._host is None:
            raise RuntimeError("ChildPool.bind() was not called: the app lifespan is not running")
        return Child(
            self.spec,
            self._host,
            start_timeout_s=self._start_timeout_s,
            request_timeout_s=self._request_timeout_s,
        )

    def child_for(self, connection: Connection | None) -> Child:
        if self.shared or not _is_session(connection):
            if self._shared_child is None:
                self._shared_child = self._new_child()
            return self._shared_child
        child = connection.state.get(_STATE_KEY)
        if isinstance(child, Child):
            return child
        child = self._new_child()
        connection.state[_STATE_KEY] = child
        self._session_children.add(child)
        connection.exit_stack.push_async_callback(self._release, child)
        return child

    async def _release(self, child: Child) -> None:
        self._session_children.discard(child)
        await child.aclose()

    def pids(self) -> list[int]:
        children = [*self._session_children, *([self._shared_child] if self._shared_child else [])]
        return sorted(pid for child in children if (pid := child.pid) is not None)

    async def aclose(self) -> None:
        children = [*self._session_children, *([self._shared_child] if self._shared_child else [])]
        self._session_children.clear()
        self._shared_child = None
        async with anyio.create_task_group() as tg:
            for child in children:
                tg.start_soon(child.aclose)


def connection_of(ctx: ServerRequestContext[Any, Any]) -> Connection | None:
    """The client connection behind a request.

    The SDK hands lowlevel middleware the connection only through the request's session
    (documented as the home of per-connection state and teardown, but without a public
    accessor in mcp 2.3); without it every request uses the shared child.
    """
    connection = getattr(ctx.session, "_connection", None)
    return connection if isinstance(connection, Connection) else None


def _is_session(connection: Connection | None) -> TypeGuard[Connection]:
    """A handshake-era connection that lives across requests (streamable HTTP session or
    SSE stream). 2026-era requests each come with their own short-lived connection."""
    return (
        connection is not None
        and connection.has_standalone_channel
        and connection.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS
    )


def _forwardable(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The params without `_meta`: the envelope of the client's protocol era is not the
    child's, and progress tokens would point at a stream the child cannot reach."""
    if params is None:
        return None
    return {key: value for key, value in params.items() if key != "_meta"}


class BridgeMiddleware:
    """SDK server middleware that answers FORWARDED requests from a child process."""

    def __init__(self, pool: ChildPool) -> None:
        self.pool = pool

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.request_id is None or ctx.method not in FORWARDED:
            return await call_next(ctx)
        child = self.pool.child_for(connection_of(ctx))
        try:
            empty = _EMPTY_LISTS.get(ctx.method)
            if empty is not None:
                capability, key = empty
                if getattr(await child.capabilities(), capability) is None:
                    return {key: []}
            raw = await child.request(ctx.method, _forwardable(ctx.params))
            return FORWARDED[ctx.method].model_validate(raw)
        except ValidationError as exc:
            raise MCPError(
                types.INTERNAL_ERROR, f"the stdio server sent an invalid {ctx.method} result: {exc}"
            ) from exc
        except BridgeError as exc:
            logger.warning("bridge request failed", method=ctx.method, error=str(exc))
            raise MCPError(types.INTERNAL_ERROR, str(exc)) from exc
