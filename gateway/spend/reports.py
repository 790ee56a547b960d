"""Reads behind `/spend/logs` and `/spend/tags`: raw rows, or daily summaries from rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from gateway.store import tables
from gateway.store.database import UNAVAILABLE_ERRORS, Database, StoreUnavailableError

MAX_ROWS = 10_000


@dataclass(frozen=True)
class SpendFilter:
    start: date | None = None
    end: date | None = None  # inclusive, as in LiteLLM
    api_key: str | None = None
    team_id: str | None = None
    user_id: str | None = None
    model: str | None = None
    request_id: str | None = None
    limit: int = 1000


def _bounds(f: SpendFilter) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(f.start, time.min, UTC) if f.start else None
    end = datetime.combine(f.end + timedelta(days=1), time.min, UTC) if f.end else None
    return start, end


def _iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def log_row(row: Any) -> dict[str, Any]:
    """LiteLLM's SpendLogs field names."""
    return {
        "request_id": row.request_id,
        "call_type": row.call_type,
        "api_key": row.api_key or "",
        "key_alias": row.key_alias,
        "spend": row.spend,
        "total_tokens": row.total_tokens,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "cached_tokens": row.cached_tokens,
        "startTime": _iso(row.start_time),
        "endTime": _iso(row.end_time),
        "model": row.model or "",
        "model_group": row.model_group,
        "model_id": row.deployment_id,
        "custom_llm_provider": row.provider,
        "user": row.user_id or "",
        "end_user": row.end_user or "",
        "team_id": row.team_id,
        "status": row.status,
        "http_status": row.http_status,
        "cache_hit": str(bool(row.cache_hit)),
        "stream": bool(row.stream),
        "request_tags": list(row.tags or []),
        "mcp_tool_name": row.mcp_tool,
        "metadata": {},
        # store_prompts_in_spend_logs: the request body and the answer ({} when off, as in
        # LiteLLM, whose `messages` holds only realtime calls' messages)
        "messages": {},
        "proxy_server_request": row.proxy_server_request or {},
        "response": row.response or {},
    }


async def spend_logs(db: Database, f: SpendFilter) -> list[dict[str, Any]]:
    t = tables.spend_logs
    query = select(t).order_by(t.c.start_time.desc()).limit(min(f.limit, MAX_ROWS))
    start, end = _bounds(f)
    if start is not None:
        query = query.where(t.c.start_time >= start)
    if end is not None:
        query = query.where(t.c.start_time < end)
    for column, value in (
        (t.c.api_key, f.api_key),
        (t.c.team_id, f.team_id),
        (t.c.user_id, f.user_id),
        (t.c.model_group, f.model),
        (t.c.request_id, f.request_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return [log_row(r) for r in await _rows(db, query)]


async def daily_summary(db: Database, f: SpendFilter) -> list[dict[str, Any]]:
    """Per day: total spend, and spend by model, user, key and team (from the rollups)."""
    t = tables.daily_spend
    query = select(t)
    if f.start is not None:
        query = query.where(t.c.day >= f.start)
    if f.end is not None:
        query = query.where(t.c.day <= f.end)
    for column, value in (
        (t.c.api_key, f.api_key),
        (t.c.team_id, f.team_id),
        (t.c.user_id, f.user_id),
        (t.c.model_group, f.model),
    ):
        if value is not None:
            query = query.where(column == value)
    days: dict[date, dict[str, Any]] = {}
    for row in await _rows(db, query):
        day = days.setdefault(
            row.day,
            {
                "startTime": row.day.isoformat(),
                "spend": 0.0,
                "requests": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "models": {},
                "users": {},
                "api_keys": {},
                "teams": {},
            },
        )
        day["spend"] += row.spend
        day["requests"] += row.requests
        day["prompt_tokens"] += row.prompt_tokens
        day["completion_tokens"] += row.completion_tokens
        for bucket, name in (
            ("models", row.model_group),
            ("users", row.user_id),
            ("api_keys", row.api_key),
            ("teams", row.team_id),
        ):
            if name:
                day[bucket][name] = day[bucket].get(name, 0.0) + row.spend
    return [days[d] for d in sorted(days)]


async def tag_spend(db: Database, start: date | None, end: date | None) -> list[dict[str, Any]]:
    t = tables.daily_tag_spend
    query = select(
        t.c.tag, func.sum(t.c.requests).label("log_count"), func.sum(t.c.spend).label("spend")
    ).group_by(t.c.tag)
    if start is not None:
        query = query.where(t.c.day >= start)
    if end is not None:
        query = query.where(t.c.day <= end)
    rows = await _rows(db, query)
    return sorted(
        (
            {"individual_request_tag": r.tag, "log_count": int(r.log_count), "total_spend": r.spend}
            for r in rows
        ),
        key=lambda item: -item["total_spend"],
    )


async def _rows(db: Database, query: Any) -> list[Any]:
    try:
        async with db.engine.connect() as connection:
            rows = list(await connection.execute(query))
    except UNAVAILABLE_ERRORS as exc:
        db.mark(False, exc)
        raise StoreUnavailableError(f"database unavailable: {exc}") from exc
    db.mark(True)
    return rows
