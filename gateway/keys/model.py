"""The in-memory shape of stored entities. Rows become these dataclasses once, at cache load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

EntityKind = Literal["key", "team", "user", "end_user"]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes even for timezone-aware columns; everything is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True, slots=True)
class Limits:
    """What every budgeted entity carries."""

    models: tuple[str, ...] = ()
    max_budget: float | None = None
    budget_duration: str | None = None
    budget_reset_at: datetime | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    max_parallel_requests: int | None = None
    blocked: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict)
    budget_id: str | None = None
    soft_budget: float | None = None
    model_max_budget: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Limits:
        return cls(
            models=tuple(row.get("models") or ()),
            max_budget=row.get("max_budget"),
            budget_duration=row.get("budget_duration"),
            budget_reset_at=_aware(row.get("budget_reset_at")),
            rpm_limit=row.get("rpm_limit"),
            tpm_limit=row.get("tpm_limit"),
            max_parallel_requests=row.get("max_parallel_requests"),
            blocked=bool(row.get("blocked")),
            metadata=dict(row.get("metadata") or {}),
            budget_id=row.get("budget_id"),
            soft_budget=row.get("soft_budget"),
            model_max_budget=dict(row.get("model_max_budget") or {}),
        )


@dataclass(frozen=True, slots=True)
class Entity:
    kind: EntityKind
    id: str
    limits: Limits
    spend: float = 0.0
    alias: str | None = None
    team_id: str | None = None
    user_id: str | None = None
    expires: datetime | None = None
    row: Mapping[str, Any] = field(default_factory=dict, repr=False)


_ID_COLUMN: dict[EntityKind, str] = {
    "key": "token",
    "team": "team_id",
    "user": "user_id",
    "end_user": "user_id",
}
_ALIAS_COLUMN: dict[EntityKind, str] = {
    "key": "key_alias",
    "team": "team_alias",
    "user": "user_alias",
    "end_user": "alias",
}


def entity_from_row(kind: EntityKind, row: Mapping[str, Any]) -> Entity:
    return Entity(
        kind=kind,
        id=str(row[_ID_COLUMN[kind]]),
        limits=Limits.from_row(row),
        spend=float(row.get("spend") or 0.0),
        alias=row.get(_ALIAS_COLUMN[kind]),
        team_id=row.get("team_id") if kind == "key" else None,
        user_id=row.get("user_id") if kind == "key" else None,
        expires=_aware(row.get("expires")),
        row=dict(row),
    )
