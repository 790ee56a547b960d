"""`soft_budget`: never refuses; when the spend of a key, team or user reaches it, one
warning event goes to the log (`soft_budget_crossed`) and the metric
`litellm_soft_budget_crossed_total` counts it, once per budget window (for all replicas and
workers with Redis: `alert_once.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from prometheus_client import CollectorRegistry, Counter

from gateway.budgets.alert_once import AlertOnce, LocalAlertOnce
from gateway.hooks import CallRecord
from gateway.keys.cache import EntityCache
from gateway.keys.model import EntityKind
from gateway.limits.ledger import MemoryLedger

log = structlog.get_logger("toolrelay.budgets")


@dataclass
class SoftBudgetHook:
    cache: EntityCache
    ledger: MemoryLedger
    registry: CollectorRegistry
    once: AlertOnce = field(default_factory=LocalAlertOnce)
    # alerted (or seen alerted elsewhere) in the current window, so Redis is asked once
    _alerted: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.crossed = Counter(
            "litellm_soft_budget_crossed",
            "Soft budgets reached (an alert, not a refusal)",
            ["entity_type", "entity_id", "entity_alias"],
            registry=self.registry,
        )

    async def pre_call(self, record: CallRecord) -> None:
        return None

    async def post_call(self, record: CallRecord) -> None:
        principal = record.principal
        owners: list[tuple[EntityKind, str | None]] = [
            ("key", principal.token),
            ("team", principal.team_id),
            ("user", principal.user_id),
        ]
        for kind, entity_id in owners:
            entity = self.cache.get(kind, entity_id) if entity_id else None
            if entity is None or entity.limits.soft_budget is None:
                continue
            ref = (kind, entity.id)
            spend = self.ledger.spend(ref)
            reset_at = self.ledger.reset_at(ref)
            window = "life" if reset_at is None else str(int(reset_at.timestamp()))
            name = f"soft:{kind}:{entity.id}:{window}"
            if spend < entity.limits.soft_budget:
                if ref in self._alerted:  # spend was reset: the next crossing alerts again
                    self._alerted.discard(ref)
                    await self.once.release(name)
                continue
            if ref in self._alerted:
                continue
            self._alerted.add(ref)
            if not await self.once.claim(name, reset_at):
                continue  # another replica or worker sent it
            alias = entity.alias or ""
            self.crossed.labels(kind, entity.id, alias).inc()
            log.warning(
                "soft budget crossed",
                event_type="soft_budget_crossed",
                entity_type=kind,
                entity_id=entity.id if kind != "key" else entity.id[:12],
                entity_alias=alias or None,
                spend=round(spend, 6),
                soft_budget=entity.limits.soft_budget,
                max_budget=entity.limits.max_budget,
            )
