"""Wire the metrics hooks to the accounts: prices for spend, the ledger for budgets, team aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.config import LoadedConfig
from gateway.metrics.definitions import GatewayMetrics
from gateway.metrics.hook import BudgetGaugeHook, MetricsHook
from gateway.metrics.tracing import TracingExportCollector

if TYPE_CHECKING:
    from gateway.accounts import Accounts


@dataclass
class MetricsWiring:
    metrics: GatewayMetrics
    first: MetricsHook  # goes before every other hook
    last: BudgetGaugeHook  # goes after the limits hook


def build_metrics(config: LoadedConfig, accounts: Accounts) -> MetricsWiring:
    metrics = GatewayMetrics()
    metrics.add_live(TracingExportCollector())
    extra = config.file.litellm_settings.model_extra or {}
    track_end_user = bool(extra.get("enable_end_user_cost_tracking_prometheus_only"))
    cache, ledger = accounts.cache, accounts.ledger

    def team_alias(team_id: str) -> str | None:
        team = cache.get("team", team_id)
        return team.alias if team is not None else None

    first = MetricsHook(
        metrics,
        cost=accounts.prices.cost,
        track_end_user=track_end_user,
        team_alias=team_alias,
    )
    last = BudgetGaugeHook(
        metrics,
        key_spend=lambda token: ledger.spend(("key", token)),
        entity=lambda kind, entity_id: cache.get(kind, entity_id),  # type: ignore[arg-type]
        spend=lambda ref: ledger.spend(ref),  # type: ignore[arg-type]
    )
    return MetricsWiring(metrics, first, last)
