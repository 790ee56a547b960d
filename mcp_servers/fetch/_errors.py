"""Why a fetch failed; each becomes an MCP tool error with this message.

FetchError
 ├── BlockedURLError       the address guard refused the URL or a redirect target
 ├── ResponseTooLargeError the body exceeds max_bytes
 ├── FetchTimeoutError     the download took longer than the timeout
 ├── TooManyRedirectsError more redirects than max_redirects
 ├── RobotsDisallowedError robots.txt forbids the URL (respect_robots on)
 ├── HTTPStatusError       the server answered 4xx/5xx
 └── ConnectError          no connection could be made
"""

from __future__ import annotations


class FetchError(Exception):
    """A URL could not be fetched; the message is meant for the model/user."""


class BlockedURLError(FetchError):
    pass


class ResponseTooLargeError(FetchError):
    pass


class FetchTimeoutError(FetchError):
    pass


class TooManyRedirectsError(FetchError):
    pass


class RobotsDisallowedError(FetchError):
    pass


class HTTPStatusError(FetchError):
    pass


class ConnectError(FetchError):
    pass
