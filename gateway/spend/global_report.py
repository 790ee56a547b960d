"""`/global/spend` and `/global/spend/report`: totals and per-day breakdowns by team, end user
(customer), key, model or tag, read from the daily rollups (so they outlive log retention)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select

from gateway.spend.reports import _rows
from gateway.store import tables
from gateway.store.database import Database

# group_by -> (rollup column, list name in the day's entry, name field in each item)
GROUPS = {
    "team": ("team_id", "teams", "team_name"),
    "customer": ("end_user", "customers", "customer"),
    "api_key": ("api_key", "api_keys", "api_key"),
    "model": ("model_group", "models", "model"),
}
GROUP_BY_CHOICES = (*GROUPS, "tag")


async def total_spend(db: Database) -> float:
    t = tables.daily_spend
    rows = await _rows(db, select(func.coalesce(func.sum(t.c.spend), 0.0)))
    return float(rows[0][0] or 0.0)


async def spend_report(
    db: Database, group_by: str, start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """LiteLLM's shape: `[{"group_by_day": ..., "teams": [{"team_name", "total_spend",
    "metadata": [{"model", "spend", "total_tokens"}]}]}]`, one entry per day."""
    if group_by == "tag":
        return await _tag_report(db, start, end)
    column, list_name, name_field = GROUPS[group_by]
    t = tables.daily_spend
    dimension = t.c[column]
    query = select(
        t.c.day,
        dimension.label("name"),
        t.c.model_group,
        func.sum(t.c.spend).label("spend"),
        func.sum(t.c.prompt_tokens + t.c.completion_tokens).label("tokens"),
    ).group_by(t.c.day, dimension, t.c.model_group)
    if start is not None:
        query = query.where(t.c.day >= start)
    if end is not None:
        query = query.where(t.c.day <= end)
    days: dict[date, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in await _rows(db, query):
        item = days[row.day].setdefault(
            row.name, {name_field: row.name or None, "total_spend": 0.0, "metadata": []}
        )
        item["total_spend"] += float(row.spend or 0.0)
        item["metadata"].append(
            {
                "model": row.model_group,
                "spend": float(row.spend or 0.0),
                "total_tokens": int(row.tokens or 0),
            }
        )
    return [
        {
            "group_by_day": day.isoformat(),
            list_name: sorted(groups.values(), key=lambda i: -i["total_spend"]),
        }
        for day, groups in sorted(days.items())
    ]


async def _tag_report(db: Database, start: date | None, end: date | None) -> list[dict[str, Any]]:
    t = tables.daily_tag_spend
    query = select(
        t.c.day, t.c.tag, func.sum(t.c.spend).label("spend"), func.sum(t.c.requests).label("n")
    ).group_by(t.c.day, t.c.tag)
    if start is not None:
        query = query.where(t.c.day >= start)
    if end is not None:
        query = query.where(t.c.day <= end)
    days: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in await _rows(db, query):
        days[row.day].append(
            {"tag": row.tag, "total_spend": float(row.spend or 0.0), "log_count": int(row.n or 0)}
        )
    return [
        {"group_by_day": day.isoformat(), "tags": sorted(items, key=lambda i: -i["total_spend"])}
        for day, items in sorted(days.items())
    ]
