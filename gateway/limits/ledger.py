"""In-process counters for spend, rpm/tpm windows and in-flight requests.

Admission and settlement are synchronous steps on one event loop, so checks and
reservations are exact under concurrency: a request is admitted only if what was spent plus
what is reserved by in-flight requests leaves room, and its own estimate is reserved before
the upstream call. `RedisLedger` offers the same interface across instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.keys.model import EntityKind
from gateway.limits.calendar import next_reset_at
from gateway.limits.errors import (
    BUDGET_EXCEEDED_STATUS,
    budget_exceeded,
    parallel_exceeded,
    rpm_exceeded,
    tpm_exceeded,
)

WINDOW = timedelta(minutes=1)
EntityRef = tuple[EntityKind, str]

_NAMES: dict[EntityKind, str] = {
    "key": "key",
    "team": "team",
    "user": "user",
    "end_user": "end user",
}


@dataclass(frozen=True, slots=True)
class Check:
    """One entity's limits for this request (from the cached entity)."""

    kind: EntityKind
    id: str
    max_budget: float | None = None
    budget_duration: str | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    max_parallel_requests: int | None = None
    ref: EntityRef = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", (self.kind, self.id))

    @property
    def label(self) -> str:
        return (
            f"{_NAMES[self.kind]} {self.id[:12]}"
            if self.kind == "key"
            else f"{_NAMES[self.kind]} '{self.id}'"
        )


@dataclass(slots=True)
class Reservation:
    refs: list[EntityRef]
    cost: float
    tokens: int
    window: datetime
    parallel: list[EntityRef] = field(default_factory=list)
    windowed: list[EntityRef] = field(default_factory=list)
    settled: bool = False
    shared: bool = False  # reserved in Redis (RedisCounters), not in this process


@dataclass(slots=True)
class _Budget:
    spend: float = 0.0
    reserved: float = 0.0
    reset_at: datetime | None = None


@dataclass(slots=True)
class _Window:
    start: datetime
    requests: int = 0
    tokens: int = 0
    reserved_tokens: int = 0


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


@dataclass
class MemoryLedger:
    budget_status: int = BUDGET_EXCEEDED_STATUS  # litellm_settings.budget_exceeded_status_code
    budgets: dict[EntityRef, _Budget] = field(default_factory=dict)
    windows: dict[EntityRef, _Window] = field(default_factory=dict)
    in_flight: dict[EntityRef, int] = field(default_factory=dict)

    def seed(self, ref: EntityRef, spend: float, reset_at: datetime | None) -> None:
        """Take the stored spend when an entity is first seen; later loads keep local counts,
        which include spend that is not written to the database yet."""
        if ref not in self.budgets:
            self.budgets[ref] = _Budget(spend=spend, reset_at=reset_at)

    def forget(self, ref: EntityRef) -> None:
        self.budgets.pop(ref, None)
        self.windows.pop(ref, None)

    def set_spend(self, ref: EntityRef, spend: float, reset_at: datetime | None) -> None:
        budget = self.budgets.setdefault(ref, _Budget())
        budget.spend, budget.reset_at = spend, reset_at

    def spend(self, ref: EntityRef) -> float:
        budget = self.budgets.get(ref)
        return budget.spend if budget is not None else 0.0

    def reset_at(self, ref: EntityRef) -> datetime | None:
        """When the entity's current budget window ends (None: no window)."""
        budget = self.budgets.get(ref)
        return budget.reset_at if budget is not None else None

    def _budget(self, check: Check, now: datetime) -> _Budget:
        budget = self.budgets.setdefault(check.ref, _Budget())
        if check.budget_duration:
            if budget.reset_at is None:
                budget.reset_at = next_reset_at(check.budget_duration, now)
            elif now >= budget.reset_at:
                budget.spend = 0.0
                budget.reset_at = next_reset_at(check.budget_duration, now)
        return budget

    def _window(self, ref: EntityRef, start: datetime) -> _Window:
        window = self.windows.get(ref)
        if window is None or window.start != start:
            window = _Window(start=start)
            self.windows[ref] = window
        return window

    def admit(
        self, checks: list[Check], cost: float, tokens: int, now: datetime | None = None
    ) -> Reservation:
        """Check every limit, then reserve; raises `LimitExceededError` and reserves nothing."""
        now = now or datetime.now(UTC)
        start = window_start(now)
        for check in checks:
            if check.max_budget is not None:
                budget = self._budget(check, now)
                if budget.spend + budget.reserved >= check.max_budget:
                    raise budget_exceeded(
                        check.label,
                        budget.spend,
                        budget.reserved,
                        check.max_budget,
                        budget.reset_at,
                        now,
                        self.budget_status,
                    )
            if check.rpm_limit is not None or check.tpm_limit is not None:
                window = self._window(check.ref, start)
                if check.rpm_limit is not None and window.requests >= check.rpm_limit:
                    raise rpm_exceeded(check.label, check.rpm_limit, start + WINDOW, now)
                used = window.tokens + window.reserved_tokens
                if check.tpm_limit is not None and used >= check.tpm_limit:
                    raise tpm_exceeded(check.label, check.tpm_limit, used, start + WINDOW, now)
            limit = check.max_parallel_requests
            if limit is not None and self.in_flight.get(check.ref, 0) >= limit:
                raise parallel_exceeded(check.label, limit, now)
        reservation = Reservation(
            refs=[c.ref for c in checks], cost=cost, tokens=tokens, window=start
        )
        for check in checks:
            self.budgets.setdefault(check.ref, _Budget()).reserved += cost
            if check.rpm_limit is not None or check.tpm_limit is not None:
                window = self._window(check.ref, start)
                window.requests += 1
                window.reserved_tokens += tokens
            if check.max_parallel_requests is not None:
                self.in_flight[check.ref] = self.in_flight.get(check.ref, 0) + 1
                reservation.parallel.append(check.ref)
        return reservation

    def settle(self, reservation: Reservation, cost: float, tokens: int) -> None:
        """Release the reservation and count what the call really cost (exactly once)."""
        if reservation.settled:
            return
        reservation.settled = True
        for ref in reservation.refs:
            budget = self.budgets.setdefault(ref, _Budget())
            budget.reserved = max(0.0, budget.reserved - reservation.cost)
            budget.spend += cost
            window = self.windows.get(ref)
            if window is not None and window.start == reservation.window:
                window.reserved_tokens = max(0, window.reserved_tokens - reservation.tokens)
                window.tokens += tokens
        for ref in reservation.parallel:
            self.in_flight[ref] = max(0, self.in_flight.get(ref, 0) - 1)

    def add_spend(self, ref: EntityRef, cost: float) -> None:
        """Spend with no reservation (entities not checked on this request, e.g. a new end user)."""
        self.budgets.setdefault(ref, _Budget()).spend += cost

    def remaining(self, check: Check, now: datetime | None = None) -> tuple[int | None, int | None]:
        """(requests, tokens) left in the current window, for response headers."""
        now = now or datetime.now(UTC)
        window = self.windows.get(check.ref)
        if window is None or window.start != window_start(now):
            requests, tokens = 0, 0
        else:
            requests, tokens = window.requests, window.tokens + window.reserved_tokens
        return (
            None if check.rpm_limit is None else max(0, check.rpm_limit - requests),
            None if check.tpm_limit is None else max(0, check.tpm_limit - tokens),
        )


@dataclass
class LocalCounters:
    """The `Counters` of a single instance: the ledger itself."""

    ledger: MemoryLedger

    async def admit(
        self, checks: list[Check], cost: float, tokens: int, now: datetime
    ) -> Reservation:
        return self.ledger.admit(checks, cost, tokens, now)

    async def settle(self, reservation: Reservation, cost: float, tokens: int) -> None:
        self.ledger.settle(reservation, cost, tokens)

    async def refresh(self, ref: EntityRef) -> None:
        return None

    async def set_spend(self, ref: EntityRef, spend: float) -> None:
        budget = self.ledger.budgets.get(ref)
        self.ledger.set_spend(ref, spend, budget.reset_at if budget else None)

    async def close(self) -> None:
        return None
