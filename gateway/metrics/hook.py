"""RequestHooks that turn finished calls into Prometheus samples.

`MetricsHook` goes first in the hook list, so its `pre_call` runs for every begun request and
its `post_call` sees refusals too (budget, rate limits). `BudgetGaugeHook` goes last, after
the limits hook has settled the call's spend, so the remaining budget it reports is current.

For streamed calls the gateway relays chunks while the upstream produces them, so the whole
stream counts as LLM API time and only non-streamed calls report overhead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from gateway.hooks import CallRecord
from gateway.metrics.definitions import (
    DEPLOYMENT_CALL_LABELS,
    KEY,
    LATENCY_LABELS,
    LLM_LATENCY_LABELS,
    PROXY_LABELS,
    SPEND_LABELS,
    TEAM,
    TOKEN_LABELS,
    TTFT_LABELS,
    GatewayMetrics,
)
from gateway.metrics.labels import AliasOf, CallLabels

CostOf = Callable[[CallRecord], float]
SpendOf = Callable[[str], float]


def _free(_record: CallRecord) -> float:
    return 0.0


def _no_alias(_team: str) -> str | None:
    return None


def _getter(names: tuple[str, ...]) -> Callable[[CallLabels], tuple[str, ...]]:
    get = attrgetter(*names)
    return lambda labels: tuple(get(labels))


_PROXY = _getter(PROXY_LABELS)
_LATENCY = _getter(LATENCY_LABELS)
_LLM_LATENCY = _getter(LLM_LATENCY_LABELS)
_TTFT = _getter(TTFT_LABELS)
_DEPLOYMENT = _getter(DEPLOYMENT_CALL_LABELS)
_TOKENS = _getter(TOKEN_LABELS)
_SPEND = _getter(SPEND_LABELS)
_CACHE = _getter(("model", *KEY, *TEAM))
MAX_CHILDREN = 50_000


@dataclass
class _Children:
    """Bound label children, kept so the hot path skips prometheus_client's label checks."""

    found: dict[tuple[int, tuple[str, ...]], Any] = field(default_factory=dict)

    def __call__(self, metric: Any, values: tuple[str, ...]) -> Any:
        key = (id(metric), values)
        child = self.found.get(key)
        if child is None:
            if len(self.found) >= MAX_CHILDREN:
                self.found.clear()  # prometheus_client keeps the series; this is only a cache
            child = self.found[key] = metric.labels(*values)
        return child


@dataclass
class MetricsHook:
    metrics: GatewayMetrics
    cost: CostOf = _free
    track_end_user: bool = False
    team_alias: AliasOf = field(default=_no_alias)
    _child: _Children = field(default_factory=_Children, init=False)

    async def pre_call(self, record: CallRecord) -> None:
        self._child(self.metrics.in_flight, (record.model_group,)).inc()

    async def post_call(self, record: CallRecord) -> None:
        m, child = self.metrics, self._child
        child(m.in_flight, (record.model_group,)).dec()
        labels = CallLabels.of(
            record, track_end_user=self.track_end_user, team_alias=self.team_alias
        )
        proxy = _PROXY(labels)
        status = str(record.http_status)
        child(m.total_requests, (*proxy, status)).inc()
        exception = (status, record.error_type or "")
        if record.status == "failure":
            child(m.failed_requests, proxy + exception).inc()
        total = max(0.0, (record.ended_at or time.time()) - record.started_at)
        latency = _LATENCY(labels)
        child(m.total_latency, latency).observe(total)
        if record.deployment is not None and not record.cache_hit:
            api_seconds = total if record.stream else record.upstream_seconds
            child(m.llm_api_latency, _LLM_LATENCY(labels)).observe(api_seconds)
            if record.first_token_seconds is not None:
                child(m.time_to_first_token, _TTFT(labels)).observe(record.first_token_seconds)
            deployment = _DEPLOYMENT(labels)
            child(m.deployment_total, deployment).inc()
            if record.status == "success":
                child(m.deployment_success, deployment).inc()
            else:
                child(m.deployment_failure, deployment + exception).inc()
        if not record.stream:
            child(m.overhead_latency, latency).observe(max(0.0, total - record.upstream_seconds))
        if record.cache_hit:
            child(m.cache_hits, _CACHE(labels)).inc()
        if record.status != "success":
            return
        tokens = _TOKENS(labels)
        child(m.input_tokens, tokens).inc(record.prompt_tokens)
        child(m.output_tokens, tokens).inc(record.completion_tokens)
        child(m.total_tokens, tokens).inc(record.prompt_tokens + record.completion_tokens)
        child(m.spend, _SPEND(labels)).inc(self.cost(record))


@dataclass
class BudgetGaugeHook:
    metrics: GatewayMetrics
    key_spend: SpendOf

    async def pre_call(self, record: CallRecord) -> None:
        return None

    async def post_call(self, record: CallRecord) -> None:
        principal = record.principal
        if principal.token is None or principal.max_budget is None:
            return
        key = {"hashed_api_key": principal.token, "api_key_alias": principal.key_alias or ""}
        self.metrics.key_max_budget.labels(**key).set(principal.max_budget)
        remaining = principal.max_budget - self.key_spend(principal.token)
        self.metrics.remaining_key_budget.labels(**key).set(remaining)
