"""`general_settings.store_prompts_in_spend_logs`: what of a request and its response is kept
with the spend-log row, as LiteLLM 1.106.2 keeps it (`proxy/spend_tracking/
spend_tracking_utils.py`: `_sanitize_request_body_for_spend_logs_payload` and the
`proxy_server_request` and `response` fields):

- the request body goes to `proxy_server_request`, the response to `response` (LiteLLM's
  `messages` field stays `{}` except for realtime calls, which toolrelay does not serve);
- every string longer than `MAX_STRING_LENGTH_PROMPT_IN_DB` characters (default 2048, read
  from the environment as LiteLLM does) keeps its first 35% and last 65% around a
  `litellm_truncated` note, so a base64 image or a long document does not fill the table;
- a string under a key that names a credential (a segment of the key, split on `_` and `-`,
  such as `key`, `token`, `secret`, `password`, `auth`; `cost` never) is replaced by
  `REDACTED_BY_LITELM`, except inside tool calls and tool results, which are content; the
  `secret_fields` key is dropped.

toolrelay adds one bound LiteLLM does not have: a field whose JSON is still larger than
`MAX_STORED_BYTES` after that (a conversation of hundreds of long messages) is stored as a
note with its size, never in full, because every row also travels through the spend journal
or the Redis spend stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

DEFAULT_MAX_STRING_LENGTH = 2048  # LiteLLM's MAX_STRING_LENGTH_PROMPT_IN_DB
MAX_STRING_LENGTH_ENV = "MAX_STRING_LENGTH_PROMPT_IN_DB"
MAX_STORED_BYTES = 256 * 1024
TRUNCATED = "litellm_truncated"  # LiteLLM's marker, so tools that look for it find it
REDACTED = "REDACTED_BY_LITELM"  # sic: LiteLLM's spelling
_NOTE = "Truncation is a DB storage safeguard; raise it with MAX_STRING_LENGTH_PROMPT_IN_DB."
_CREDENTIAL_SEGMENTS = frozenset(
    {
        "password",
        "secret",
        "key",
        "token",
        "auth",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "access",
        "private",
        "certificate",
        "fingerprint",
        "tenancy",
        "apikey",
    }
)
_DROPPED_KEYS = frozenset({"secret_fields"})
_TOOL_INPUT_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_TOOL_OUTPUT_BLOCKS = frozenset({"tool_result", "mcp_tool_result", "function_call_output"})


def max_string_length(environ: Mapping[str, str]) -> int:
    try:
        return int(environ.get(MAX_STRING_LENGTH_ENV, DEFAULT_MAX_STRING_LENGTH))
    except ValueError:
        return DEFAULT_MAX_STRING_LENGTH


def stored_content(value: Any, max_length: int) -> Any:
    """`value` as it is kept in the row: truncated, credentials masked, bounded in size."""
    if value is None:
        return None
    kept = _sanitize(value, max_length, mask=True)
    size = len(orjson.dumps(kept))
    if size > MAX_STORED_BYTES:
        return {TRUNCATED: f"not stored: {size} bytes of JSON, over {MAX_STORED_BYTES}"}
    return kept


def _truncate(text: str, max_length: int) -> str:
    if len(text) <= max_length:
        return text
    head, tail = int(max_length * 0.35), int(max_length * 0.65)
    skipped = len(text) - head - tail
    middle = f"... ({TRUNCATED} skipped {skipped} chars. {_NOTE}) ..."
    return f"{text[:head]}{middle}{text[len(text) - tail :] if tail else ''}"


def _is_credential(key: str) -> bool:
    segments = key.lower().replace("-", "_").split("_")
    return "cost" not in segments and any(s in _CREDENTIAL_SEGMENTS for s in segments)


def _is_content(parent: Mapping[str, Any], key: str) -> bool:
    """Tool arguments and results are what the user sent or got: never masked."""
    kind = parent.get("type")
    return (
        key in ("arguments", "logprobs")
        or (key == "input" and kind in _TOOL_INPUT_BLOCKS)
        or (
            key in ("content", "output")
            and (kind in _TOOL_OUTPUT_BLOCKS or parent.get("role") == "tool")
        )
    )


def _sanitize(value: Any, max_length: int, mask: bool) -> Any:
    if isinstance(value, str):
        return _truncate(value, max_length)
    if isinstance(value, list):
        return [_sanitize(item, max_length, mask) for item in value]
    if isinstance(value, Mapping):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if name in _DROPPED_KEYS:
                continue
            if mask and isinstance(item, str) and _is_credential(name):
                kept[name] = REDACTED
            else:
                kept[name] = _sanitize(item, max_length, mask and not _is_content(value, name))
        return kept
    return value
