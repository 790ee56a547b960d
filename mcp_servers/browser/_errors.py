"""Why a browser tool failed; each becomes an MCP tool error with this message.

BrowserToolError
 ├── BrowserUnavailableError  Chromium could not be started
 ├── NoSessionError           the request carries no MCP session to attach a context to
 ├── TooManySessionsError     max_contexts sessions are already open
 ├── RefusedURLError          the address guard refused the URL or where it redirected
 └── PageActionError          Playwright failed (timeout, no such element, ...)
"""

from __future__ import annotations


class BrowserToolError(Exception):
    """A browser tool could not do what was asked; the message is for the model/user."""


class BrowserUnavailableError(BrowserToolError):
    pass


class NoSessionError(BrowserToolError):
    pass


class TooManySessionsError(BrowserToolError):
    pass


class RefusedURLError(BrowserToolError):
    pass


class PageActionError(BrowserToolError):
    pass
