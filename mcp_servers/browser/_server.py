"""The browser MCP server: Playwright tools, one isolated context per MCP session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from pydantic import Field
from starlette.applications import Starlette

from common.netguard import AddressPolicy, Guard, guarded_proxy
from mcp_servers._http import build_http_app
from mcp_servers.browser import _tools as tools
from mcp_servers.browser._engine import BrowserEngine
from mcp_servers.browser._errors import BrowserToolError, PageActionError
from mcp_servers.browser._session_http import SessionLifecycle, session_key
from mcp_servers.browser._sessions import SessionContexts
from mcp_servers.browser._settings import BrowserSettings

T = TypeVar("T")

INSTRUCTIONS = (
    "A headless Chromium with one private tab per session: browser_navigate first, then "
    "browser_extract (text), browser_screenshot (PNG), browser_click and browser_fill."
)


@dataclass
class BrowserRuntime:
    """Everything the tools need, built once per app; the engine starts in the lifespan."""

    settings: BrowserSettings
    guard: Guard
    engine: BrowserEngine | None = None
    sessions: SessionContexts | None = None

    async def on_page(self, ctx: Context, action: Callable[[Page], Awaitable[T]]) -> T:
        """Run `action` on the calling session's page; every failure becomes a ToolError."""
        try:
            if self.sessions is None:
                raise PageActionError("the browser server is not running")
            async with self.sessions.page(session_key(ctx.request_context.request)) as page:
                return await action(page)
        except BrowserToolError as exc:
            raise ToolError(str(exc)) from exc
        except PlaywrightError as exc:
            raise ToolError(_first_line(exc.message)) from exc


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "browser error"


def build_server(runtime: BrowserRuntime) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("browser", instructions=INSTRUCTIONS)
    limit = runtime.settings.max_extract_length

    @server.tool()
    async def browser_navigate(
        url: Annotated[str, Field(description="http(s) URL to open in this session's tab")],
        ctx: Context,
    ) -> str:
        """Open a URL in the session's browser tab and wait for it to load."""
        try:
            await tools.check_url(runtime.guard, url)
        except BrowserToolError as exc:
            raise ToolError(str(exc)) from exc
        return await runtime.on_page(ctx, lambda page: tools.navigate(page, url))

    @server.tool()
    async def browser_screenshot(
        ctx: Context,
        full_page: Annotated[bool, Field(description="Capture the whole scrollable page")] = False,
        selector: Annotated[str | None, Field(description="CSS selector of one element")] = None,
    ) -> Image:
        """Take a PNG screenshot of the current page, or of one element."""
        png = await runtime.on_page(ctx, lambda page: tools.screenshot(page, full_page, selector))
        return Image(data=png, format="png")

    @server.tool()
    async def browser_extract(
        ctx: Context,
        selector: Annotated[
            str | None, Field(description="CSS selector; whole page if omitted")
        ] = None,
        max_length: Annotated[int, Field(ge=1, description="Most characters to return")] = 5000,
    ) -> str:
        """The visible text of the current page, or of the first element matching selector."""
        length = min(max_length, limit)
        return await runtime.on_page(ctx, lambda page: tools.extract(page, selector, length))

    @server.tool()
    async def browser_click(
        selector: Annotated[str, Field(description="CSS selector of the element to click")],
        ctx: Context,
    ) -> str:
        """Click an element on the current page."""
        return await runtime.on_page(ctx, lambda page: tools.click(page, selector))

    @server.tool()
    async def browser_fill(
        selector: Annotated[str, Field(description="CSS selector of an input or textarea")],
        value: Annotated[str, Field(description="Text to put in it")],
        ctx: Context,
    ) -> str:
        """Replace the content of an input field on the current page."""
        return await runtime.on_page(ctx, lambda page: tools.fill(page, selector, value))

    return server


def build_browser_app(settings: BrowserSettings) -> Starlette:
    runtime = BrowserRuntime(settings, Guard(AddressPolicy.from_allow_hosts(settings.allow_hosts)))
    server = build_server(runtime)

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        async with guarded_proxy(runtime.guard) as proxy_url, anyio.create_task_group() as tg:
            engine = BrowserEngine(settings, runtime.guard, proxy_url)
            sessions = SessionContexts(engine, settings.max_contexts, settings.idle_timeout)
            runtime.engine, runtime.sessions = engine, sessions
            tg.start_soon(sessions.reap_forever)
            try:
                yield
            finally:
                runtime.sessions = None
                with anyio.CancelScope(shield=True):
                    await sessions.close_all()
                    await engine.aclose()
                tg.cancel_scope.cancel()

    async def health() -> dict[str, Any]:
        return {
            "browser": "running" if runtime.engine and runtime.engine.running else "not started",
            "contexts": len(runtime.sessions) if runtime.sessions is not None else 0,
        }

    async def on_session_end(key: str) -> None:
        if runtime.sessions is not None:
            await runtime.sessions.close(key)

    app = build_http_app(
        server,
        auth_token=settings.auth_token,
        lifespan=lifespan,
        health=health,
        allowed_hosts=settings.allowed_hosts,
    )
    app.add_middleware(SessionLifecycle, on_end=on_session_end)
    return app
