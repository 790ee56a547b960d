"""One spend-log row per request, built from the finished `CallRecord`.

`SpendLogSettings` carries the two LiteLLM settings that shape it:
`general_settings.disable_spend_logs` marks the row `UNLOGGED` (it still counts towards key,
team, user and end-user spend and the daily rollups; `gateway/spend/claims.py` keeps only its
id), and `store_prompts_in_spend_logs` adds the request body and the response
(`gateway/spend/content.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.hooks import CallRecord
from gateway.ids import uuid4_hex
from gateway.spend.content import DEFAULT_MAX_STRING_LENGTH, max_string_length, stored_content

Row = dict[str, Any]
_DATETIME_FIELDS = ("start_time", "end_time")
UNLOGGED = "unlogged"  # a key only rows that get no spend-log row carry
# Fields added after the first release: rows queued by an older gateway (journal, spill file,
# spend stream) lack them.
_LATER_FIELDS: Row = {"proxy_server_request": None, "response": None}


@dataclass(frozen=True, slots=True)
class SpendLogSettings:
    keep_rows: bool = True  # False: general_settings.disable_spend_logs
    store_prompts: bool = False  # general_settings.store_prompts_in_spend_logs
    max_string_length: int = DEFAULT_MAX_STRING_LENGTH

    @classmethod
    def from_settings(
        cls, disable_spend_logs: bool, store_prompts: bool, environ: Mapping[str, str]
    ) -> SpendLogSettings:
        return cls(
            keep_rows=not disable_spend_logs,
            store_prompts=store_prompts,
            max_string_length=max_string_length(environ),
        )

    @property
    def stores_content(self) -> bool:
        return self.keep_rows and self.store_prompts


_MAX_TOKENS = 2**53  # an upstream's absurd usage must not make the row unstorable


def _clip(value: str | None, size: int = 255) -> str | None:
    return value[:size] if value is not None else None


def _tokens(count: int) -> int:
    return min(max(count, 0), _MAX_TOKENS)


def request_tags(body: dict[str, Any]) -> list[str]:
    """Tags from `metadata.tags` (LiteLLM) or a top-level `tags` list."""
    found: list[str] = []
    metadata = body.get("metadata")
    for source in (metadata.get("tags") if isinstance(metadata, dict) else None, body.get("tags")):
        if isinstance(source, list):
            found += [t[:255] for t in source if isinstance(t, str) and t and t not in found]
    return found


def mcp_tool(body: dict[str, Any]) -> str | None:
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        for name in ("mcp_tool_name", "mcp_tool"):
            value = metadata.get(name)
            if isinstance(value, str) and value:
                return value[:255]
    return None


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def row_from_record(
    record: CallRecord, cost: float, settings: SpendLogSettings | None = None
) -> Row:
    principal, deployment = record.principal, record.deployment
    ended = record.ended_at if record.ended_at is not None else record.started_at
    row = {
        "id": uuid4_hex(),
        "request_id": record.request_id[:128],
        "call_type": record.call_type,
        "api_key": principal.token,
        "key_alias": _clip(principal.key_alias),
        "team_id": _clip(principal.team_id),
        "user_id": _clip(principal.user_id),
        "end_user": _clip(record.end_user),
        "model_group": _clip(record.model_group) or "",
        "model": _clip(deployment.model) if deployment else None,
        "deployment_id": _clip(deployment.id) if deployment else None,
        "provider": _clip(deployment.provider, 64) if deployment else None,
        "prompt_tokens": _tokens(record.prompt_tokens),
        "completion_tokens": _tokens(record.completion_tokens),
        "total_tokens": _tokens(record.prompt_tokens + record.completion_tokens),
        "cached_tokens": _tokens(record.cached_tokens),
        "spend": cost,
        "start_time": _time(record.started_at),
        "end_time": _time(ended),
        "status": record.status,
        "http_status": record.http_status,
        "cache_hit": record.cache_hit,
        "stream": record.stream,
        "tags": request_tags(record.body),
        "mcp_tool": mcp_tool(record.body),
        "proxy_server_request": None,
        "response": None,
    }
    if settings is None:
        return row
    if not settings.keep_rows:
        row[UNLOGGED] = True
    elif settings.store_prompts:
        row["proxy_server_request"] = stored_content(record.body, settings.max_string_length)
        row["response"] = stored_content(record.response, settings.max_string_length)
    return row


def to_json_ready(row: Row) -> Row:
    return {k: (v.isoformat() if k in _DATETIME_FIELDS else v) for k, v in row.items()}


def from_json_ready(row: Row) -> Row:
    read = {k: (datetime.fromisoformat(v) if k in _DATETIME_FIELDS else v) for k, v in row.items()}
    return {**_LATER_FIELDS, **read}
