"""One MCP session per end user, for a stateful server (the browser: cookies, logins, open
pages), opened on a user's first call and closed when idle.

Each session lives in its own task, because an MCP client must be entered and left in
the same task. A session whose connection broke is dropped, and the user's next call
opens a new one. At the cap, a new user gets `SessionLimit` (a tool error that says so);
users who already have a session are never refused.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

import anyio
import structlog
from anyio.abc import TaskGroup
from mcp import Client

from middleware.mcp_pool.errors import ServerUnavailable, SessionLimit

logger = structlog.get_logger("middleware.mcp")
OpenClient = Callable[[], AbstractAsyncContextManager[Client]]


@dataclass
class _UserSession:
    ready: anyio.Event = field(default_factory=anyio.Event)
    closing: anyio.Event = field(default_factory=anyio.Event)
    client: Client | None = None
    error: str | None = None
    in_flight: int = 0
    last_used: float = field(default_factory=time.monotonic)


class UserSessions:
    def __init__(
        self, server: str, open_client: OpenClient, *, idle_timeout: float, max_sessions: int
    ) -> None:
        self.server = server
        self.idle_timeout = idle_timeout
        self.max_sessions = max_sessions
        self._open_client = open_client
        self._sessions: dict[str, _UserSession] = {}
        self._tasks: TaskGroup | None = None

    def __len__(self) -> int:
        return len(self._sessions)

    async def run(self) -> None:
        """Own the sessions' tasks and close idle ones, until cancelled."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                while True:
                    await anyio.sleep(min(self.idle_timeout / 4, 30.0))
                    self._close_idle()
            finally:
                self._tasks = None
                tasks.cancel_scope.cancel()

    def _close_idle(self) -> None:
        cutoff = time.monotonic() - self.idle_timeout
        for user, session in list(self._sessions.items()):
            if session.in_flight == 0 and session.last_used < cutoff:
                logger.info("mcp user session idle, closing", server=self.server, user=user)
                self._forget(user, session)

    @asynccontextmanager
    async def client(self, user: str) -> AsyncIterator[Client]:
        """The user's session, opened on first use. Bound the wait with the caller's timeout."""
        session = self._sessions.get(user)
        if session is None:
            session = self._start(user)
        session.in_flight += 1
        try:
            await session.ready.wait()
            if session.client is None:
                raise ServerUnavailable(
                    f"MCP server '{self.server}' could not open a session for this user: "
                    f"{session.error or 'closed'}"
                )
            yield session.client
        finally:
            session.in_flight -= 1
            session.last_used = time.monotonic()

    def discard(self, user: str) -> None:
        """The user's session broke: close it; the next call opens a fresh one."""
        session = self._sessions.get(user)
        if session is not None:
            self._forget(user, session)

    def _start(self, user: str) -> _UserSession:
        if self._tasks is None:
            raise ServerUnavailable(f"MCP server '{self.server}' is not running")
        if len(self._sessions) >= self.max_sessions:
            raise SessionLimit(
                f"MCP server '{self.server}' already holds {self.max_sessions} user sessions "
                "(middleware_settings.max_user_sessions); a new user can use it when one "
                "of them has been idle for "
                f"{self.idle_timeout:g}s"
            )
        session = _UserSession()
        self._sessions[user] = session
        self._tasks.start_soon(self._hold, user, session, name=f"mcp-{self.server}-user")
        return session

    async def _hold(self, user: str, session: _UserSession) -> None:
        try:
            async with self._open_client() as client:
                session.client = client
                session.ready.set()
                logger.info("mcp user session opened", server=self.server, user=user)
                await session.closing.wait()
        except Exception as exc:  # boundary: a failed open is reported to the waiting call
            session.error = f"{type(exc).__name__}: {exc}"
        finally:
            session.client = None
            session.ready.set()
            self._forget(user, session)

    def _forget(self, user: str, session: _UserSession) -> None:
        if self._sessions.get(user) is session:
            del self._sessions[user]
        session.closing.set()

    def close_all(self) -> None:
        for user, session in list(self._sessions.items()):
            self._forget(user, session)
