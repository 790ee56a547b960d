"""Download one URL through the address guard, within size, time and redirect limits."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import anyio
import httpx

from common.netguard import Guard, GuardedTransport, NetguardError
from mcp_servers.fetch._errors import (
    BlockedURLError,
    ConnectError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    TooManyRedirectsError,
)
from mcp_servers.fetch._settings import FetchSettings

ROBOTS_MAX_BYTES = 512_000


@dataclass(frozen=True)
class Download:
    url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes


class Fetcher:
    """One pooled HTTP client whose every connection goes to a checked address."""

    def __init__(self, settings: FetchSettings, guard: Guard) -> None:
        self.settings = settings
        self.guard = guard
        self.client = httpx.AsyncClient(
            transport=GuardedTransport(guard),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(settings.timeout),
            headers={"User-Agent": settings.user_agent},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def fetch(self, url: str) -> Download:
        """GET `url`, following redirects one hop at a time (each hop re-checked)."""
        try:
            with anyio.fail_after(self.settings.timeout):
                return await self._follow(url)
        except TimeoutError:
            raise FetchTimeoutError(
                f"timed out after {self.settings.timeout:g}s fetching {url}"
            ) from None

    async def _follow(self, url: str) -> Download:
        for _ in range(self.settings.max_redirects + 1):
            # Checked here for a clear refusal before httpx parses the URL (it rejects some
            # IP spellings itself); the transport checks again on the address it connects to.
            try:
                await self.guard.check_url(url)
            except NetguardError as exc:
                raise BlockedURLError(f"{exc} (URL {url})") from exc
            if self.settings.respect_robots:
                await self._check_robots(url)
            async with self._stream(url) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    url = urljoin(str(response.url), location)
                    continue
                if response.status_code >= 400:
                    raise HTTPStatusError(
                        f"HTTP {response.status_code} {response.reason_phrase} from {response.url}"
                    )
                body = await self._read_capped(response, self.settings.max_bytes)
                content_type = response.headers.get("content-type", "")
                return Download(
                    url=str(response.url),
                    status=response.status_code,
                    content_type=content_type.split(";", 1)[0].strip().lower(),
                    charset=response.charset_encoding,
                    body=body,
                )
        raise TooManyRedirectsError(
            f"more than {self.settings.max_redirects} redirects, last to {url}"
        )

    def _stream(self, url: str) -> _GuardedStream:
        return _GuardedStream(self.client, url)

    @staticmethod
    async def _read_capped(response: httpx.Response, limit: int) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(
                f"response from {response.url} is {int(declared)} bytes, over the {limit}-byte limit"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLargeError(
                        f"response from {response.url} exceeds the {limit}-byte limit"
                    )
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise FetchTimeoutError(f"timed out reading {response.url}") from exc
        except httpx.HTTPError as exc:
            raise ConnectError(f"could not read {response.url}: {exc}") from exc
        return b"".join(chunks)

    async def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            async with self._stream(robots_url) as response:
                if response.status_code in (401, 403):
                    raise RobotsDisallowedError(
                        f"{robots_url} denies access ({response.status_code})"
                    )
                if response.status_code >= 400 or response.is_redirect:
                    return
                text = (await self._read_capped(response, ROBOTS_MAX_BYTES)).decode(
                    "utf-8", "replace"
                )
        except (ConnectError, ResponseTooLargeError):
            return
        parser = RobotFileParser()
        parser.parse(text.splitlines())
        if not parser.can_fetch(self.settings.user_agent, url):
            raise RobotsDisallowedError(f"robots.txt of {parts.netloc} disallows {url}")


class _GuardedStream:
    """`client.stream("GET", url)` with transport and guard errors mapped to FetchError."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self.url = url
        self.response: httpx.Response | None = None

    async def __aenter__(self) -> httpx.Response:
        try:
            request = self.client.build_request("GET", self.url)
            self.response = await self.client.send(request, stream=True)
        except NetguardError as exc:
            raise BlockedURLError(f"{exc} (URL {self.url})") from exc
        except httpx.TimeoutException as exc:
            raise FetchTimeoutError(f"timed out connecting to {self.url}") from exc
        except httpx.InvalidURL as exc:
            raise BlockedURLError(f"not a valid URL: {self.url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise ConnectError(f"could not fetch {self.url}: {exc}") from exc
        return self.response

    async def __aexit__(self, *exc_info: object) -> None:
        if self.response is not None:
            await self.response.aclose()


__all__ = ["Download", "FetchError", "Fetcher"]
