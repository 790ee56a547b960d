"""Image inputs: OpenAI `image_url` parts as base64 data URLs or http(s) URLs.

Providers that only take inline bytes (Gemini, Ollama) get remote images fetched first, with
the shared client, so the pure translators only ever see data URLs.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from common.chat import ContentPart, Message
from common.netguard import AddressPolicy
from gateway.errors import BadRequestError
from gateway.providers.image_fetch import guarded_get

MAX_IMAGE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class InlineImage:
    media_type: str
    data: str  # base64


def image_url_of(part: ContentPart) -> str | None:
    if not isinstance(part, dict) or part.get("type") != "image_url":
        return None
    value = part.get("image_url")
    url = value.get("url") if isinstance(value, dict) else value
    return url if isinstance(url, str) else None


def parse_data_url(url: str) -> InlineImage | None:
    """`data:image/png;base64,AAAA` -> its media type and payload; None for other URLs."""
    if not url.startswith("data:"):
        return None
    header, sep, data = url[5:].partition(",")
    if not sep or not header.endswith(";base64"):
        raise BadRequestError(
            "image_url data URLs must be base64 encoded (data:<type>;base64,<data>).",
            param="messages",
        )
    return InlineImage(header.removesuffix(";base64") or "image/png", data)


def has_remote_images(messages: list[Message]) -> bool:
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for part in content:
                url = image_url_of(part)
                if url is not None and not url.startswith("data:"):
                    return True
    return False


async def inline_remote_images(
    http: httpx.AsyncClient,
    messages: list[Message],
    upstream_timeout: float,
    policy: AddressPolicy | None = None,
) -> list[Message]:
    """A copy of `messages` with every http(s) image URL replaced by a data URL.

    Only public addresses are fetched unless `policy` allows more (SSRF guard)."""
    if not has_remote_images(messages):
        return messages
    fetched: dict[str, str] = {}
    result: list[Any] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            result.append(message)
            continue
        parts: list[Any] = []
        for part in content:
            url = image_url_of(part)
            if url is None or url.startswith("data:"):
                parts.append(part)
                continue
            if url not in fetched:
                fetched[url] = await _fetch_as_data_url(
                    http, url, upstream_timeout, policy or AddressPolicy()
                )
            parts.append({"type": "image_url", "image_url": {"url": fetched[url]}})
        result.append({**message, "content": parts})
    return result


async def _fetch_as_data_url(
    http: httpx.AsyncClient, url: str, upstream_timeout: float, policy: AddressPolicy
) -> str:
    if not url.startswith(("http://", "https://")):
        raise BadRequestError(f"unsupported image URL scheme: {url[:40]!r}", param="messages")
    try:
        response = await guarded_get(http, policy, url, upstream_timeout)
    except httpx.HTTPError as exc:
        raise BadRequestError(
            f"could not fetch image {url!r}: {type(exc).__name__}", param="messages"
        ) from exc
    if response.status_code != 200:
        raise BadRequestError(
            f"could not fetch image {url!r}: HTTP {response.status_code}", param="messages"
        )
    if len(response.content) > MAX_IMAGE_BYTES:
        raise BadRequestError(f"image {url!r} is larger than 20 MB", param="messages")
    media_type = response.headers.get("content-type", "image/png").split(";")[0].strip()
    encoded = base64.b64encode(response.content).decode("ascii")
    return f"data:{media_type};base64,{encoded}"
