"""Render query results for a model: a compact pipe table (default) or JSON."""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from collections.abc import Sequence
from typing import Any, Literal

OutputFormat = Literal["table", "json"]


def to_jsonable(value: Any, max_chars: int) -> Any:
    """A JSON-friendly value; long text is cut to `max_chars` with a marker."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _cut(value, max_chars)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return (
            _cut("\\x" + raw.hex(), max_chars)
            if len(raw) <= max_chars
            else (f"<{len(raw)} bytes, base64 prefix {base64.b64encode(raw[:48]).decode()}...>")
        )
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, max_chars) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v, max_chars) for v in value]
    return _cut(str(value), max_chars)


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}…[{len(text) - max_chars} more chars]"


def _cell(value: Any, max_chars: int) -> str:
    if value is None:
        return "NULL"
    plain = to_jsonable(value, max_chars)
    text = plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n").replace("\r", "\\r")


def render_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    output: OutputFormat = "table",
    max_chars: int = 500,
) -> str:
    """The rows as a markdown-style table (NULL for null) or a JSON array of objects."""
    if output == "json":
        objects = [
            {
                column: to_jsonable(value, max_chars)
                for column, value in zip(columns, row, strict=True)
            }
            for row in rows
        ]
        return json.dumps(objects, ensure_ascii=False, indent=None)
    header = "| " + " | ".join(_cell(c, max_chars) for c in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_cell(v, max_chars) for v in row) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def row_summary(count: int, *, truncated: bool, max_rows: int) -> str:
    noun = "row" if count == 1 else "rows"
    if truncated:
        return (
            f"{count} {noun} shown; more rows exist (cut at the row cap of {max_rows}). "
            "Add a WHERE clause, aggregate, or use LIMIT/OFFSET to page."
        )
    return f"{count} {noun}"
