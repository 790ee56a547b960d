"""An honest estimate for `/v1/messages/count_tokens`, without the model's tokenizer.

Heuristic (documented, not exact): one token per four characters of text (system, messages,
tool results, tool inputs and the JSON of tool definitions), plus four tokens of framing per
message; each image counts 1,600 tokens, the most Anthropic documents for an image within its
size limits (tokens = width x height / 750). Expect it to be within about 20% for English text.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.providers.base import JSON

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4
IMAGE_TOKENS = 1600


def count_tokens(native: JSON) -> int:
    chars = 0
    tokens = 0
    system = native.get("system")
    if system:
        chars += _chars(system)
        tokens += MESSAGE_OVERHEAD
    for message in native.get("messages") or []:
        tokens += MESSAGE_OVERHEAD
        content = message.get("content") if isinstance(message, dict) else None
        chars += _chars(content)
        tokens += IMAGE_TOKENS * _images(content)
    for tool in native.get("tools") or []:
        chars += len(orjson.dumps(tool))
    return tokens + (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def _chars(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if not isinstance(content, list):
        return 0
    total = 0
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            total += len(str(block.get("text", "")))
        elif kind == "thinking":
            total += len(str(block.get("thinking", "")))
        elif kind == "tool_use":
            total += len(str(block.get("name", ""))) + len(orjson.dumps(block.get("input")))
        elif kind == "tool_result":
            total += _chars(block.get("content"))
    return total


def _images(content: Any) -> int:
    if not isinstance(content, list):
        return 0
    count = 0
    for block in content:
        if isinstance(block, dict):
            if block.get("type") == "image":
                count += 1
            elif block.get("type") == "tool_result":
                count += _images(block.get("content"))
    return count
