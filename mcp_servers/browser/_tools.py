"""What each browser tool does to a session's page."""

from __future__ import annotations

from playwright.async_api import Page, Response
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from common.netguard import REFUSED_HEADER, Guard, NetguardError
from mcp_servers.browser._errors import PageActionError, RefusedURLError


async def check_url(guard: Guard, url: str) -> None:
    """Refuse before touching the browser (the proxy would refuse the connection anyway)."""
    try:
        await guard.check_url(url)
    except NetguardError as exc:
        raise RefusedURLError(str(exc)) from exc


async def navigate(page: Page, url: str) -> str:
    response = await page.goto(url, wait_until="load")
    _raise_if_refused(response, page.url)
    status = f"status {response.status}" if response is not None else "no response"
    return f"Navigated to {page.url} ({status}). Title: {await page.title()!r}"


def _raise_if_refused(response: Response | None, url: str) -> None:
    refusal = response.headers.get(REFUSED_HEADER.lower()) if response is not None else None
    if refusal:
        raise RefusedURLError(f"navigation ended at a refused address ({url}): {refusal}")


async def extract(page: Page, selector: str | None, max_length: int) -> str:
    if selector:
        locator = page.locator(selector)
        if await locator.count() == 0:
            raise PageActionError(f"no element matches {selector!r} on {page.url}")
        text = await locator.first.inner_text()
    else:
        text = await page.locator("body").inner_text() if await page.locator("body").count() else ""
    text = text.strip()
    if len(text) <= max_length:
        return text
    return (
        text[:max_length] + f"\n\n<text truncated at {max_length} of {len(text)} characters; "
        "pass a selector to read a smaller part of the page>"
    )


async def screenshot(page: Page, full_page: bool, selector: str | None) -> bytes:
    if selector:
        locator = page.locator(selector)
        if await locator.count() == 0:
            raise PageActionError(f"no element matches {selector!r} on {page.url}")
        return await locator.first.screenshot(type="png")
    return await page.screenshot(type="png", full_page=full_page)


async def click(page: Page, selector: str) -> str:
    try:
        await page.click(selector)
    except PlaywrightTimeoutError as exc:
        raise PageActionError(_not_actionable("click", selector, page)) from exc
    return f"Clicked {selector!r}; the page is now {page.url}"


async def fill(page: Page, selector: str, value: str) -> str:
    try:
        await page.fill(selector, value)
    except PlaywrightTimeoutError as exc:
        raise PageActionError(_not_actionable("fill", selector, page)) from exc
    return f"Filled {selector!r} ({len(value)} characters)"


def _not_actionable(action: str, selector: str, page: Page) -> str:
    return (
        f"could not {action} {selector!r} on {page.url}: no such visible, enabled element in time"
    )
