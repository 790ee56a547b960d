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


@dataclass
class MetricsHook:
    metrics: GatewayMetrics
    cost: CostOf = _free
    track_end_user: bool = False
    team_alias: AliasOf = field(default=_no_alias)

    async def pre_call(self, record: CallRecord) -> None:
        self.metrics.in_flight.labels(record.model_group).inc()

    async def post_call(self, record: CallRecord) -> None:
        m = self.metrics
        m.in_flight.labels(record.model_group).dec()
        labels = CallLabels.of(
            record, track_end_user=self.track_end_user, team_alias=self.team_alias
        )
        proxy = labels.pick(PROXY_LABELS)
        m.total_requests.labels(**proxy, status_code=str(record.http_status)).inc()
        exception = {
            "exception_status": str(record.http_status),
            "exception_class": record.error_type or "",
        }
        if record.status == "failure":
            m.failed_requests.labels(**proxy, **exception).inc()
        total = max(0.0, (record.ended_at or time.time()) - record.started_at)
        latency = labels.pick(LATENCY_LABELS)
        m.total_latency.labels(**latency).observe(total)
        reached_upstream = record.deployment is not None and not record.cache_hit
        if reached_upstream:
            api_seconds = total if record.stream else record.upstream_seconds
            m.llm_api_latency.labels(**labels.pick(LLM_LATENCY_LABELS)).observe(api_seconds)
            if record.first_token_seconds is not None:
                m.time_to_first_token.labels(**labels.pick(TTFT_LABELS)).observe(
                    record.first_token_seconds
                )
            deployment = labels.pick(DEPLOYMENT_CALL_LABELS)
            m.deployment_total.labels(**deployment).inc()
            if record.status == "success":
                m.deployment_success.labels(**deployment).inc()
            else:
                m.deployment_failure.labels(**deployment, **exception).inc()
        if not record.stream:
            m.overhead_latency.labels(**latency).observe(max(0.0, total - record.upstream_seconds))
        if record.cache_hit:
            m.cache_hits.labels(**labels.pick(("model", *KEY, *TEAM))).inc()
        if record.status != "success":
            return
        tokens = labels.pick(TOKEN_LABELS)
        m.input_tokens.labels(**tokens).inc(record.prompt_tokens)
        m.output_tokens.labels(**tokens).inc(record.completion_tokens)
        m.total_tokens.labels(**tokens).inc(record.prompt_tokens + record.completion_tokens)
        m.spend.labels(**labels.pick(SPEND_LABELS)).inc(self.cost(record))


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
