"""Turn a downloaded body into text a model can read."""

from __future__ import annotations

import json
import re

from bs4 import BeautifulSoup
from markdownify import MarkdownConverter

# Elements that are page furniture, not content.
NOISE_TAGS = (
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "nav", "header", "footer", "aside", "form", "button", "input", "select", "textarea", "link", "meta",
)  # fmt: skip
NOISE_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search")
TEXT_TYPES = ("text/plain", "text/markdown", "text/csv", "text/xml", "application/xml")
JSON_TYPES = ("application/json", "application/ld+json", "application/problem+json")


def is_html(content_type: str, body: bytes) -> bool:
    if content_type in ("text/html", "application/xhtml+xml"):
        return True
    head = body[:512].lstrip().lower()
    return not content_type and (head.startswith(b"<!doctype html") or head.startswith(b"<html"))


def is_json(content_type: str) -> bool:
    return content_type in JSON_TYPES or content_type.endswith("+json")


def is_text(content_type: str) -> bool:
    return (
        content_type.startswith("text/")
        or content_type in TEXT_TYPES
        or content_type.endswith("+xml")
        or content_type in ("application/javascript", "application/x-yaml", "application/yaml")
    )


def decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def html_to_markdown(html: str) -> str:
    """The page's content as markdown, without scripts, styles and navigation."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(list(NOISE_TAGS)):
        tag.decompose()
    noise = ", ".join(
        [*(f'[role="{role}"]' for role in NOISE_ROLES), "[hidden]", '[aria-hidden="true"]']
    )
    for tag in soup.select(noise):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    markdown = MarkdownConverter(heading_style="ATX", bullets="-").convert_soup(root)
    markdown = re.sub(r"[ \t]+\n", "\n", markdown)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip()
    return f"Title: {title}\n\n{markdown}" if title else markdown


def pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def describe_binary(url: str, content_type: str, size: int) -> str:
    kind = content_type or "unknown type"
    return (
        f"{url} is binary content ({kind}, {size} bytes); it is not shown as text. "
        "Use a tool that handles files (e.g. the browser or storage server) if you need it."
    )
