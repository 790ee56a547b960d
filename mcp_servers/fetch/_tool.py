"""The `fetch_url` tool: download, convert, and page the result."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_servers.fetch._convert import (
    decode,
    describe_binary,
    html_to_markdown,
    is_html,
    is_json,
    is_text,
    pretty_json,
)
from mcp_servers.fetch._errors import FetchError
from mcp_servers.fetch._fetcher import Download, Fetcher


class BadArgumentError(FetchError):
    """A tool argument is out of range."""


@dataclass(frozen=True)
class Page:
    text: str
    total: int
    start: int
    end: int


def render(download: Download, raw: bool) -> str:
    """The whole document as text: markdown for HTML unless raw, pretty JSON, or a description."""
    content_type = download.content_type
    if is_html(content_type, download.body):
        html = decode(download.body, download.charset)
        return html if raw else html_to_markdown(html)
    if is_json(content_type):
        text = decode(download.body, download.charset or "utf-8")
        return text if raw else pretty_json(text)
    if is_text(content_type) or (not content_type and _looks_textual(download.body)):
        return decode(download.body, download.charset)
    return describe_binary(download.url, content_type, len(download.body))


def _looks_textual(body: bytes) -> bool:
    # No content type: treat it as text unless it has the NUL bytes binary formats are full of.
    return b"\x00" not in body[:4096]


def paginate(text: str, start_index: int, max_length: int) -> Page:
    if start_index < 0:
        raise BadArgumentError("start_index must be 0 or more")
    if max_length <= 0:
        raise BadArgumentError("max_length must be at least 1")
    total = len(text)
    if start_index >= total and total > 0:
        raise BadArgumentError(
            f"start_index {start_index} is past the end of the content ({total} characters)"
        )
    end = min(total, start_index + max_length)
    return Page(text=text[start_index:end], total=total, start=start_index, end=end)


async def fetch_url(
    fetcher: Fetcher, url: str, max_length: int, start_index: int, raw: bool
) -> str:
    download = await fetcher.fetch(url)
    page = paginate(render(download, raw), start_index, max_length)
    header = f"Contents of {download.url} ({download.content_type or 'unknown type'}):\n\n"
    if page.end >= page.total:
        return header + page.text
    note = (
        f"\n\n<content truncated: showing characters {page.start}-{page.end} of {page.total}. "
        f"Call fetch_url with start_index={page.end} to get more.>"
    )
    return header + page.text + note
