"""One isolated browser context (and page) per MCP session, closed when the session ends."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import structlog
from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from mcp_servers.browser._engine import BrowserEngine
from mcp_servers.browser._errors import TooManySessionsError

logger = structlog.get_logger(__name__)


@dataclass
class SessionBrowser:
    context: BrowserContext
    page: Page
    last_used: float
    lock: anyio.Lock = field(default_factory=anyio.Lock)


class SessionContexts:
    """Maps an MCP session key to its own BrowserContext, with a cap and an idle timeout."""

    def __init__(self, engine: BrowserEngine, max_contexts: int, idle_timeout: float) -> None:
        self.engine = engine
        self.max_contexts = max_contexts
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, SessionBrowser] = {}
        self._lock = anyio.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    @asynccontextmanager
    async def page(self, key: str) -> AsyncIterator[Page]:
        """The session's page, used by one tool call at a time."""
        entry = await self._entry(key)
        async with entry.lock:
            entry.last_used = time.monotonic()
            try:
                yield entry.page
            finally:
                entry.last_used = time.monotonic()

    async def _entry(self, key: str) -> SessionBrowser:
        async with self._lock:
            entry = self._sessions.get(key)
            if entry is not None and not entry.page.is_closed():
                return entry
            if entry is None and len(self._sessions) >= self.max_contexts:
                raise TooManySessionsError(
                    f"too many open browser sessions (limit {self.max_contexts}); "
                    "end another MCP session or try again later"
                )
            if entry is not None:
                await _close_quietly(entry.context)
            context = await self.engine.new_context()
            page = await context.new_page()
            entry = SessionBrowser(context=context, page=page, last_used=time.monotonic())
            self._sessions[key] = entry
            logger.info("browser session opened", session=key, open=len(self._sessions))
            return entry

    async def close(self, key: str) -> None:
        async with self._lock:
            entry = self._sessions.pop(key, None)
        if entry is not None:
            await _close_quietly(entry.context)
            logger.info("browser session closed", session=key, open=len(self._sessions))

    async def close_idle(self) -> None:
        cutoff = time.monotonic() - self.idle_timeout
        idle = [
            key
            for key, entry in self._sessions.items()
            if entry.last_used < cutoff and not entry.lock.locked()
        ]
        for key in idle:
            logger.info("browser session idle", session=key)
            await self.close(key)

    async def reap_forever(self) -> None:
        interval = max(0.5, min(30.0, self.idle_timeout / 4))
        while True:
            await anyio.sleep(interval)
            await self.close_idle()

    async def close_all(self) -> None:
        for key in list(self._sessions):
            await self.close(key)


async def _close_quietly(context: BrowserContext) -> None:
    try:
        await context.close()
    except PlaywrightError as exc:
        logger.warning("browser context close failed", error=exc.message)
