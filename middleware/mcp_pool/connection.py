"""One long-lived MCP client for one server, kept alive by a supervisor task.

The supervisor connects, lists the tools, then waits: for the keepalive interval, a
`list_changed` notification (refresh now) or a failed call (check now). The keepalive is a
`tools/list`: the 2026-07-28 protocol removed `ping` (servers answer it "method not found"),
and listing works under every protocol version, so it proves the server answers and keeps
the tool list fresh in one request. A failed probe reconnects; a failed connect marks the
server unhealthy and is retried with exponential backoff, or at once when a call needs the
server. Startup never fails on a down server.

The breaker counts transport failures only: no answer in time, a broken connection, or an
answer that is not valid JSON-RPC (the SDK reports those as MCP errors with the codes in
`TRANSPORT_ERROR_CODES`). An MCP error the server itself chose (bad arguments, unknown
method) is the caller's problem and leaves the breaker alone.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types
import structlog
from mcp import Client
from mcp.client.subscriptions import ListenNotSupportedError, SubscriptionLost
from mcp.shared.exceptions import MCPError

from middleware.config_sections import McpServerEntry
from middleware.mcp_pool.breaker import CircuitBreaker
from middleware.mcp_pool.errors import (
    CircuitOpen,
    ProtocolFailure,
    ServerUnavailable,
    SessionLimit,
    ToolTimeout,
)
from middleware.mcp_pool.tls import describe_tls_failure, tls_failure
from middleware.mcp_pool.transport import http_client, make_transport
from middleware.mcp_pool.user_sessions import UserSessions

logger = structlog.get_logger("middleware.mcp")
CLIENT_INFO = mcp_types.Implementation(name="toolrelay-middleware", version="0.1.0")
# JSON-RPC codes the SDK puts on errors it makes up for a failed transport: the stream
# ended, no answer, an unparsable body, an error status without a JSON-RPC body (an HTML
# 502 page), an unexpected content type or a terminated session.
TRANSPORT_ERROR_CODES = frozenset(
    {
        mcp_types.CONNECTION_CLOSED,
        mcp_types.REQUEST_TIMEOUT,
        mcp_types.PARSE_ERROR,
        mcp_types.INTERNAL_ERROR,
        mcp_types.INVALID_REQUEST,
    }
)


@dataclass(frozen=True)
class PoolSettings:
    tool_timeout: float
    tools_list_ttl: float
    concurrency: int
    initial_backoff: float
    max_backoff: float
    breaker_threshold: int
    breaker_cooldown: float
    ping_timeout: float = 5.0
    ping_interval: float = 15.0
    user_session_idle_timeout: float = 900.0
    max_user_sessions: int = 100


# Servers that keep per-session state by nature get one session per end user unless the
# entry says `session: shared`.
STATEFUL_SERVERS = frozenset({"browser"})


def session_mode(name: str, entry: McpServerEntry) -> str:
    """`per_user` or `shared`, from the entry's `session` (default: by server name)."""
    configured = (entry.model_extra or {}).get("session")
    if configured in {"per_user", "shared"}:
        return str(configured)
    return "per_user" if name in STATEFUL_SERVERS else "shared"


class ServerConnection:
    def __init__(
        self,
        name: str,
        entry: McpServerEntry,
        settings: PoolSettings,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.entry = entry
        self.settings = settings
        self.ssl_context = ssl_context  # None: httpx2's default verification
        self.timeout = entry.timeout or settings.tool_timeout
        self.health = "starting"
        self.last_error: str | None = None
        self.tools: list[mcp_types.Tool] = []
        self.tools_version = 0
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown)
        self._client: Client | None = None
        self._connected = anyio.Event()
        self._retry_now = anyio.Event()
        self._signal = anyio.Event()
        self._refresh_wanted = False
        self._check_wanted = False
        # Counted for the status and for tests: how often this connection was (re)made, and
        # how many keepalive probes the server answered.
        self.connects = 0
        self.probes = 0
        # `max_concurrency` on a server entry overrides the pool-wide per-server cap.
        cap = (entry.model_extra or {}).get("max_concurrency")
        self.concurrency = cap if isinstance(cap, int) and cap > 0 else settings.concurrency
        self._semaphore = anyio.Semaphore(self.concurrency)
        self.user_sessions: UserSessions | None = None
        if session_mode(name, entry) == "per_user":
            self.user_sessions = UserSessions(
                name,
                self._open_client,
                idle_timeout=settings.user_session_idle_timeout,
                max_sessions=settings.max_user_sessions,
            )

    # -- the supervisor -------------------------------------------------------------------

    async def run(self) -> None:
        if self.user_sessions is None:
            await self._supervise()
            return
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.user_sessions.run)
            await self._supervise()

    async def _supervise(self) -> None:
        backoff = self.settings.initial_backoff
        while True:
            started = time.monotonic()
            try:
                await self._lifetime()
                reason = "connection lost"
            except Exception as exc:  # boundary: any connect/transport failure means "retry"
                reason = self._why(exc)
            self._mark_down(reason)
            if time.monotonic() - started > 30.0:
                backoff = self.settings.initial_backoff
            with anyio.move_on_after(backoff):
                await self._retry_now.wait()
            self._retry_now = anyio.Event()
            backoff = min(backoff * 2, self.settings.max_backoff)

    @asynccontextmanager
    async def _open_client(self) -> AsyncIterator[Client]:
        """A new MCP session to this server (its own HTTP client, so its own session id)."""
        async with AsyncExitStack() as stack:
            http = None
            if self.entry.transport not in {"sse", "stdio"}:
                http = await stack.enter_async_context(
                    http_client(self.entry, self.timeout, self.ssl_context)
                )
            client = Client(
                make_transport(self.entry, http, self.ssl_context),
                cache=None,
                client_info=CLIENT_INFO,
                message_handler=self._on_message,
            )
            yield await stack.enter_async_context(client)

    async def _lifetime(self) -> None:
        async with self._open_client() as client:
            await self._refresh_tools(client)
            self._mark_up(client)
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._listen, client)
                await self._watch(client)
                tg.cancel_scope.cancel()

    async def _watch(self, client: Client) -> None:
        """Until the connection is found broken: probe every keepalive interval (and at once
        after a failed call), refresh on list_changed, so a restarted server gets a fresh
        session before a call fails."""
        probed_at = time.monotonic()
        interval = min(self.settings.ping_interval, self.settings.tools_list_ttl)
        while True:
            wait = probed_at + interval - time.monotonic()
            with anyio.move_on_after(max(wait, 0.0)):
                await self._signal.wait()
            self._signal = anyio.Event()
            due = time.monotonic() - probed_at >= interval
            if self._check_wanted or self._refresh_wanted or due:
                self._check_wanted = self._refresh_wanted = False
                if not await self._probe(client):
                    return
                probed_at = time.monotonic()

    async def _probe(self, client: Client) -> bool:
        """Is the server answering? (Refreshes the tool list on the way.)"""
        with anyio.move_on_after(self.settings.ping_timeout):
            try:
                await self._refresh_tools(client)
                self.probes += 1
                return True
            except Exception as exc:  # boundary: a failed probe is the answer we asked for
                self.last_error = _describe(exc)
                return False
        self.last_error = f"no answer to the keepalive within {self.settings.ping_timeout:g}s"
        return False

    async def _listen(self, client: Client) -> None:
        """Modern (2026-07-28) sessions announce list changes only on a listen stream."""
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    self._wake(refresh=True)
        except (ListenNotSupportedError, SubscriptionLost, MCPError):
            return
        except Exception as exc:  # boundary: without a listen stream the TTL still refreshes
            logger.info(
                "tools/list_changed stream unavailable", server=self.name, error=_describe(exc)
            )

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self._wake(refresh=True)

    def _wake(self, *, refresh: bool = False, check: bool = False) -> None:
        self._refresh_wanted |= refresh
        self._check_wanted |= check
        self._signal.set()

    async def _refresh_tools(self, client: Client) -> None:
        tools: list[mcp_types.Tool] = []
        cursor: str | None = None
        for _ in range(100):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        allowed = self.entry.allowed_tools
        denied = set(self.entry.disallowed_tools or ())
        kept = [
            tool
            for tool in tools
            if (allowed is None or tool.name in allowed) and tool.name not in denied
        ]
        if kept != self.tools or self.tools_version == 0:
            self.tools = kept
            self.tools_version += 1

    def _why(self, exc: BaseException) -> str:
        """What went wrong, in words: a TLS failure says what to set."""
        failure = tls_failure(exc)
        if failure is not None:
            return describe_tls_failure(self.name, self.entry.url, failure)
        return _describe(exc)

    def _mark_up(self, client: Client) -> None:
        self._client = client
        self.connects += 1
        self.health = "healthy"
        self.last_error = None
        self.breaker.reset()
        self._connected.set()
        logger.info("mcp server connected", server=self.name, tools=len(self.tools))

    def _mark_down(self, reason: str) -> None:
        if self._client is not None or self.health == "starting":
            logger.warning("mcp server unavailable", server=self.name, error=reason)
        self._client = None
        self.health = "unhealthy"
        self.last_error = reason
        if self._connected.is_set():
            self._connected = anyio.Event()

    # -- calls ----------------------------------------------------------------------------

    async def call(
        self, tool: str, arguments: dict[str, object], user: str | None = None
    ) -> mcp_types.CallToolResult:
        """Call a tool on the shared session, or on `user`'s own session when this server
        keeps one per end user."""
        limit = self.timeout
        deadline = time.monotonic() + limit
        client = self._client
        if client is None:
            self._retry_now.set()
            with anyio.move_on_after(min(limit, 2.0)):
                await self._connected.wait()
            client = self._client
            if client is None:
                raise ServerUnavailable(
                    f"MCP server '{self.name}' is unavailable: {self.last_error or 'not connected'}"
                )
        if not self.breaker.allow():
            raise CircuitOpen(
                f"MCP server '{self.name}' failed repeatedly; calls are paused for "
                f"{self.settings.breaker_cooldown:g}s"
            )
        sessions = self.user_sessions if user else None
        settled = False
        try:
            with anyio.fail_after(max(deadline - time.monotonic(), 0.001)):
                async with self._semaphore:
                    if sessions is not None and user:
                        async with sessions.client(user) as own:
                            result = await own.call_tool(tool, arguments)
                    else:
                        result = await client.call_tool(tool, arguments)
            self.breaker.record_success()
            settled = True
            return result
        except TimeoutError:
            self._transport_failed(sessions, user)
            settled = True
            raise ToolTimeout(
                f"tool '{tool}' on '{self.name}' timed out after {limit:g}s"
            ) from None
        except MCPError as exc:
            settled = True
            if exc.code in TRANSPORT_ERROR_CODES:
                self._transport_failed(sessions, user)
                raise ServerUnavailable(
                    f"MCP server '{self.name}' gave no usable answer: {exc.message}"
                ) from exc
            # The server answered: the call was wrong, the server is fine.
            self.breaker.record_success()
            raise ProtocolFailure(f"MCP error {exc.code}: {exc.message}") from exc
        except (SessionLimit, ServerUnavailable):
            settled = True
            self.breaker.abandon()  # our own limit, or a session that would not open
            raise
        except Exception as exc:  # boundary: transport failures become "unavailable"
            self._transport_failed(sessions, user)
            settled = True
            raise ServerUnavailable(f"MCP server '{self.name}' failed: {self._why(exc)}") from exc
        finally:
            if not settled:  # cancelled: no verdict on the server
                self.breaker.abandon()

    def _transport_failed(self, sessions: UserSessions | None, user: str | None) -> None:
        self.breaker.record_failure()
        self._wake(check=True)
        if sessions is not None and user:
            sessions.discard(user)

    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "health": self.health,
            "circuit": self.breaker.state,
            "last_error": self.last_error,
            "transport": self.entry.transport,
            "tools": len(self.tools),
            "session": "per_user" if self.user_sessions is not None else "shared",
            "user_sessions": len(self.user_sessions) if self.user_sessions is not None else 0,
        }


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
