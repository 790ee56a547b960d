"""Open WebUI's tool progress blocks: render a finished call, and parse blocks back.

    <details type="tool_calls" done="true" id="call_1" name="execute_sql"
     arguments="{&quot;sql&quot;: ...}" result="&quot;42&quot;">
    <summary>Tool Executed</summary>
    </details>

Attribute values are HTML-escaped JSON (unescaped quotes cut Open WebUI's Input/Output);
`result` is the JSON string of the result text. Blocks are emitted only when done: streamed
content is append-only, so a `done="false"` block would spin forever.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import orjson

_BLOCK = re.compile(
    r'<details\s+type="tool_calls"(?P<attrs>[^>]*)>\s*<summary>.*?</summary>\s*</details>\n?',
    re.DOTALL,
)
_ATTR = re.compile(r'([a-zA-Z_][\w-]*)="([^"]*)"')


@dataclass(frozen=True, slots=True)
class ProgressCall:
    id: str
    name: str
    arguments: str  # JSON text, as the model sent it
    result: str  # the text the model was given


def render_block(call: ProgressCall) -> str:
    result_json = orjson.dumps(call.result).decode()
    return (
        f'<details type="tool_calls" done="true" id="{html.escape(call.id)}" '
        f'name="{html.escape(call.name)}" arguments="{html.escape(call.arguments)}" '
        f'result="{html.escape(result_json)}">\n<summary>Tool Executed</summary>\n</details>\n'
    )


def _decode_result(raw: str) -> str:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def parse_block(attrs_text: str) -> ProgressCall | None:
    attrs = {key: html.unescape(value) for key, value in _ATTR.findall(attrs_text)}
    if attrs.get("done", "true") != "true" or "name" not in attrs:
        return None
    return ProgressCall(
        id=attrs.get("id") or "",
        name=attrs["name"],
        arguments=attrs.get("arguments") or "{}",
        result=_decode_result(attrs.get("result", '""')),
    )


def split_content(content: str) -> list[str | ProgressCall]:
    """Text and finished calls, in order. Unfinished or malformed blocks are dropped."""
    parts: list[str | ProgressCall] = []
    position = 0
    for match in _BLOCK.finditer(content):
        if match.start() > position:
            parts.append(content[position : match.start()])
        call = parse_block(match.group("attrs"))
        if call is not None:
            parts.append(call)
        position = match.end()
    if position < len(content):
        parts.append(content[position:])
    return parts


def has_blocks(content: object) -> bool:
    return isinstance(content, str) and '<details type="tool_calls"' in content
