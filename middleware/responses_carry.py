"""The MCP calls of a turn that ended with calls to the client's tools, carried through a
Responses client so the next request can give them back to the model.

The middleware keeps no state. In chat they ride in the reply's progress blocks (see
`history`); a Responses client would show those as text. Here they ride in a `reasoning`
item's `encrypted_content`, which clients treat as opaque, show nowhere, and send back as it
is (Codex sends every reasoning item back; so does code that passes the output items on).
When the item comes back it becomes the `function_call` and `function_call_output` items it
stands for, before the translation to chat. A client that drops it loses only that context.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from common.responses.response import new_item_id
from middleware.progress import ProgressCall, split_content

JSON = dict[str, Any]
PREFIX = "toolrelay.mcp-calls.v1:"


def carry_item(blocks: list[str]) -> JSON | None:
    """The reasoning item carrying the MCP calls behind `blocks`, or None if there are none."""
    calls = [part for block in blocks for part in split_content(block)]
    payload = [
        {"call_id": c.id, "name": c.name, "arguments": c.arguments, "output": c.result}
        for c in calls
        if isinstance(c, ProgressCall)
    ]
    if not payload:
        return None
    encoded = base64.urlsafe_b64encode(orjson.dumps(payload)).decode()
    return {
        "id": new_item_id("rs"),
        "type": "reasoning",
        "summary": [],
        "encrypted_content": PREFIX + encoded,
    }


def _carried(item: Any) -> list[JSON] | None:
    if not isinstance(item, dict) or item.get("type") != "reasoning":
        return None
    content = item.get("encrypted_content")
    if not isinstance(content, str) or not content.startswith(PREFIX):
        return None
    try:
        calls = orjson.loads(base64.urlsafe_b64decode(content[len(PREFIX) :]))
    except (binascii.Error, ValueError):
        return None  # not ours after all: left for the translation, which skips reasoning
    if not isinstance(calls, list):
        return None
    return [
        call
        for call in calls
        if isinstance(call, dict)
        and all(isinstance(call.get(k), str) and call[k] for k in ("call_id", "name"))
    ]


def expand_carried(items: list[JSON]) -> list[JSON]:
    """Input items with each carrying reasoning item replaced by its calls and their outputs."""
    out: list[JSON] = []
    for item in items:
        calls = _carried(item)
        if calls is None:
            out.append(item)
            continue
        out += [
            {
                "type": "function_call",
                "call_id": call["call_id"],
                "name": call["name"],
                "arguments": str(call.get("arguments") or "{}"),
            }
            for call in calls
        ]
        out += [
            {
                "type": "function_call_output",
                "call_id": call["call_id"],
                "output": str(call.get("output") or ""),
            }
            for call in calls
        ]
    return out
