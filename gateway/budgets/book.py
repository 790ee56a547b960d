"""Budget objects (`/budget/*`) and what referencing them means: a key, team, user or end
user with a `budget_id` takes the budget's limits (unless it sets its own), and a changed
budget is copied to everything that references it, so the limits hook enforces it from
memory like any other limit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from gateway.budgets.wire import BUDGET_LIMITS, BudgetFields, NewBudget, UpdateBudget
from gateway.errors import BadRequestError, NotFoundError, ServiceUnavailableError
from gateway.keys.model import EntityKind
from gateway.keys.service import Management
from gateway.limits.calendar import next_reset_at
from gateway.limits.durations import DurationError
from gateway.store import repository as rows
from gateway.store.database import Database, StoreUnavailableError
from gateway.store.repository import DuplicateError, RefusedValueError
from gateway.store.tables import budgets

log = structlog.get_logger("toolrelay.budgets")
KINDS: tuple[EntityKind, ...] = ("key", "team", "user", "end_user")
Row = dict[str, Any]


def budget_view(row: Row) -> dict[str, Any]:
    """LiteLLM's LiteLLM_BudgetTable row."""
    out = {k: v for k, v in row.items()}
    for name in ("created_at", "updated_at", "budget_reset_at"):
        value = out.get(name)
        if isinstance(value, datetime):  # SQLite hands back naive datetimes; all are UTC
            out[name] = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return out


@dataclass
class BudgetBook:
    db: Database
    management: Management

    def _values(self, body: BudgetFields) -> dict[str, Any]:
        dumped = body.model_dump()
        values = {k: dumped[k] for k in BUDGET_LIMITS if k in body.model_fields_set}
        duration = values.get("budget_duration")
        if duration:
            try:
                values["budget_reset_at"] = next_reset_at(duration, datetime.now(UTC))
            except DurationError as exc:
                raise BadRequestError(str(exc), param="budget_duration") from None
        elif "budget_duration" in values:
            values["budget_reset_at"] = None
        return values

    async def create(self, body: NewBudget) -> Row:
        values = {"budget_id": body.budget_id or str(uuid.uuid4()), **self._values(body)}
        row = await self._guard(rows.insert_row(self.db, budgets, values), values["budget_id"])
        assert row is not None
        log.info("budget created", budget_id=row["budget_id"])
        return row

    async def get(self, budget_id: str) -> Row:
        try:
            row = await rows.fetch_one(self.db, budgets, budget_id)
        except StoreUnavailableError as exc:
            raise _unavailable() from exc
        if row is None:
            raise NotFoundError(f"Budget '{budget_id}' not found.", code="not_found")
        return row

    async def all(self) -> list[Row]:
        try:
            return await rows.fetch_all(self.db, budgets)
        except StoreUnavailableError as exc:
            raise _unavailable() from exc

    async def update(self, body: UpdateBudget) -> Row:
        await self.get(body.budget_id)
        values = self._values(body)
        row = await self._guard(
            rows.update_row(self.db, budgets, body.budget_id, values), body.budget_id
        )
        if row is None:
            raise NotFoundError(f"Budget '{body.budget_id}' not found.", code="not_found")
        await self._propagate(row)
        log.info("budget updated", budget_id=body.budget_id, fields=sorted(values))
        return row

    async def delete(self, budget_id: str) -> Row:
        row = await self.get(budget_id)
        for kind in KINDS:
            if await self.management.where(kind, budget_id=budget_id):
                raise BadRequestError(
                    f"Budget '{budget_id}' is still referenced by a {kind}; change its "
                    "budget_id first.",
                    code="budget_in_use",
                )
        try:
            await rows.delete_rows(self.db, budgets, [budget_id])
        except StoreUnavailableError as exc:
            raise _unavailable() from exc
        log.info("budget deleted", budget_id=budget_id)
        return row

    async def apply(self, values: dict[str, Any]) -> dict[str, Any]:
        """Entity column values with a `budget_id`: the budget's limits fill in the limits
        the caller did not set itself."""
        budget_id = values.get("budget_id")
        if not budget_id:
            return values
        try:
            row = await self.get(budget_id)
        except NotFoundError:
            raise BadRequestError(
                f"Budget '{budget_id}' not found. Create it with /budget/new.", param="budget_id"
            ) from None
        inherited = {k: row[k] for k in (*BUDGET_LIMITS, "budget_reset_at") if k not in values}
        return {**inherited, **values}

    async def _propagate(self, row: Row) -> None:
        limits = {k: row[k] for k in (*BUDGET_LIMITS, "budget_reset_at")}
        for kind in KINDS:
            for entity in await self.management.where(kind, budget_id=row["budget_id"]):
                await self.management.update(kind, entity.id, limits)

    async def _guard(self, write: Any, what: str) -> Row | None:
        try:
            result: Row | None = await write
        except DuplicateError:
            raise BadRequestError(
                f"Budget '{what}' already exists.", code="already_exists"
            ) from None
        except RefusedValueError as exc:
            raise BadRequestError(f"The database refused a value: {exc}") from None
        except StoreUnavailableError as exc:
            raise _unavailable() from exc
        return result


def _unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError("The budget database is unavailable.", code="store_unavailable")
