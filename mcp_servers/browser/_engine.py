"""One shared Chromium process, launched on first use, whose traffic all goes through the guard."""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio
import structlog
from playwright.async_api import Browser, BrowserContext, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError

from common.netguard import Guard, NetguardError
from mcp_servers.browser._errors import BrowserUnavailableError
from mcp_servers.browser._settings import CHROMIUM_ARGS, BrowserSettings

logger = structlog.get_logger(__name__)


class BrowserEngine:
    """Owns Playwright and the browser; hands out guarded, isolated contexts."""

    def __init__(self, settings: BrowserSettings, guard: Guard, proxy_url: str) -> None:
        self.settings = settings
        self.guard = guard
        self.proxy_url = proxy_url
        self._lock = anyio.Lock()
        self._stack = AsyncExitStack()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    @property
    def running(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    async def _ensure_browser(self) -> Browser:
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            try:
                if self._playwright is None:
                    self._playwright = await self._stack.enter_async_context(async_playwright())
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self.settings.executable_path,
                    headless=True,
                    args=[*CHROMIUM_ARGS, *self.settings.extra_args],
                    proxy={"server": self.proxy_url},
                )
            except PlaywrightError as exc:
                raise BrowserUnavailableError(
                    f"the browser could not start ({self.settings.executable_path}): {exc.message}"
                ) from exc
            logger.info("browser launched", version=self._browser.version)
            return self._browser

    async def new_context(self) -> BrowserContext:
        browser = await self._ensure_browser()
        context = await browser.new_context(
            viewport={
                "width": self.settings.viewport_width,
                "height": self.settings.viewport_height,
            },
            service_workers="block",
            accept_downloads=False,
        )
        context.set_default_navigation_timeout(self.settings.navigation_timeout * 1000)
        context.set_default_timeout(self.settings.action_timeout * 1000)
        await context.route("**/*", self._check_route)
        return context

    async def _check_route(self, route: Route) -> None:
        # First line of defence with a clear log line; the proxy enforces the same rules on
        # the connection itself, which also covers redirects (routes see only the first URL).
        url = route.request.url
        try:
            await self.guard.check_url(url)
        except NetguardError as exc:
            logger.info("browser request refused", url=url, reason=str(exc))
            await route.abort("blockedbyclient")
            return
        await route.fallback()

    async def aclose(self) -> None:
        async with self._lock:
            if self._browser is not None:
                try:
                    await self._browser.close()
                except PlaywrightError:
                    logger.warning("browser close failed; stopping playwright anyway")
                self._browser = None
            await self._stack.aclose()
            self._playwright = None
