"""Entities as the management API shows them (LiteLLM's response field names)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.keys.model import Entity

_HIDDEN = frozenset({"members"})


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value


def view(entity: Entity, spend: float) -> dict[str, Any]:
    out = {k: _json(v) for k, v in entity.row.items() if k not in _HIDDEN}
    out["spend"] = spend
    if entity.kind == "key":
        out["token_id"] = entity.id
    if entity.kind == "team":
        out["members_with_roles"] = list(entity.row.get("members") or [])
    return out


def row_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _json(v) for k, v in row.items() if k not in _HIDDEN}
