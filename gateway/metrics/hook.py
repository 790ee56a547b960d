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
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from gateway.cache.response_cache import STATUS_HEADER as CACHE_STATUS_HEADER
from gateway.context import FallbackOutcome, current_context
from gateway.hooks import CallRecord
from gateway.metrics.definitions import (
    CACHE_LABELS,
    DEPLOYMENT_CALL_LABELS,
    LATENCY_LABELS,
    LATENCY_PER_TOKEN_LABELS,
    LLM_LATENCY_LABELS,
    PROXY_LABELS,
    SPEND_LABELS,
    TOKEN_LABELS,
    TTFT_LABELS,
    GatewayMetrics,
)
from gateway.metrics.labels import AliasOf, CallLabels

if TYPE_CHECKING:
    from gateway.keys.model import Entity

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
_CACHE = _getter(CACHE_LABELS)
_PER_TOKEN = _getter(LATENCY_PER_TOKEN_LABELS)
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


@dataclass(slots=True)
class _Series:
    """The bound children of one kind of call (one caller, model group and deployment): a
    finished call's labels are looked up once, not once per metric. Children are bound on
    first use, so a series appears in `/metrics` only once something was counted in it."""

    labels: CallLabels
    found: dict[Any, Any] = field(default_factory=dict)
    requests: dict[str, Any] = field(default_factory=dict)  # total_requests, by status code

    def child(self, metric: Any, values: Callable[[CallLabels], tuple[str, ...]]) -> Any:
        bound = self.found.get(metric)
        if bound is None:
            bound = self.found[metric] = metric.labels(*values(self.labels))
        return bound


SeriesKey = tuple[str | None, ...]


@dataclass
class MetricsHook:
    metrics: GatewayMetrics
    cost: CostOf = _free
    track_end_user: bool = False
    team_alias: AliasOf = field(default=_no_alias)
    _child: _Children = field(default_factory=_Children, init=False)
    _series: dict[SeriesKey, _Series] = field(default_factory=dict, init=False)
    _in_flight: dict[str, Any] = field(default_factory=dict, init=False)

    def _gauge(self, group: str) -> Any:
        gauge = self._in_flight.get(group)
        if gauge is None:
            if len(self._in_flight) >= MAX_CHILDREN:
                self._in_flight.clear()
            gauge = self._in_flight[group] = self.metrics.in_flight.labels(group)
        return gauge

    def _series_of(self, record: CallRecord) -> _Series:
        principal, deployment = record.principal, record.deployment
        team = principal.team_id
        key: SeriesKey = (
            record.end_user if self.track_end_user else None,
            principal.token, principal.key_alias, team,
            self.team_alias(team) if team else None,
            principal.user_id, record.model_group,
        )  # fmt: skip
        if deployment is not None:
            key += (deployment.id, deployment.model, deployment.api_base, deployment.provider)
        series = self._series.get(key)
        if series is None:
            if len(self._series) >= MAX_CHILDREN:
                self._series.clear()  # prometheus_client keeps the series; this is only a cache
            labels = CallLabels.of(
                record, track_end_user=self.track_end_user, team_alias=self.team_alias
            )
            series = self._series[key] = _Series(labels)
        return series

    async def pre_call(self, record: CallRecord) -> None:
        self._gauge(record.model_group).inc()
        ctx = current_context()
        if ctx is not None:
            record.queue_seconds = max(0.0, time.perf_counter() - ctx.started)

    async def post_call(self, record: CallRecord) -> None:
        m = self.metrics
        self._gauge(record.model_group).dec()
        series = self._series_of(record)
        child, labels = series.child, series.labels
        status = str(record.http_status)
        total_requests = series.requests.get(status)
        if total_requests is None:
            total_requests = series.requests[status] = m.total_requests.labels(
                *_PROXY(labels), status
            )
        total_requests.inc()
        failed = record.status == "failure"
        if failed:
            exception = (status, record.error_type or "")
            self._child(m.failed_requests, _PROXY(labels) + exception).inc()
        total = max(0.0, (record.ended_at or time.time()) - record.started_at)
        child(m.total_latency, _LATENCY).observe(total)
        reached = record.deployment is not None and not record.cache_hit
        if reached:
            api_seconds = total if record.stream else record.upstream_seconds
            child(m.llm_api_latency, _LLM_LATENCY).observe(api_seconds)
            if record.first_token_seconds is not None:
                child(m.time_to_first_token, _TTFT).observe(record.first_token_seconds)
            child(m.deployment_total, _DEPLOYMENT).inc()
            if failed:
                self._child(m.deployment_failure, _DEPLOYMENT(labels) + exception).inc()
            else:
                child(m.deployment_success, _DEPLOYMENT).inc()
        if not record.stream:
            child(m.overhead_latency, _LATENCY).observe(max(0.0, total - record.upstream_seconds))
        if record.queue_seconds is not None:
            child(m.request_queue_time, _LATENCY).observe(record.queue_seconds)
        ctx = current_context()
        if record.cache_hit:
            child(m.cache_hits, _CACHE).inc()
            cached = record.prompt_tokens + record.completion_tokens
            child(m.cached_tokens, _CACHE).inc(cached)
        elif ctx is not None and ctx.response_headers.get(CACHE_STATUS_HEADER) == "miss":
            child(m.cache_misses, _CACHE).inc()
        if ctx is not None and ctx.fallbacks:
            self._fallbacks(ctx.fallbacks, labels)
        if failed:
            return
        if reached and record.completion_tokens:
            child(m.latency_per_output_token, _PER_TOKEN).observe(
                api_seconds / record.completion_tokens
            )
        child(m.input_tokens, _TOKENS).inc(record.prompt_tokens)
        child(m.output_tokens, _TOKENS).inc(record.completion_tokens)
        child(m.total_tokens, _TOKENS).inc(record.prompt_tokens + record.completion_tokens)
        child(m.spend, _SPEND).inc(self.cost(record))

    def _fallbacks(self, outcomes: list[FallbackOutcome], labels: CallLabels) -> None:
        caller = (labels.hashed_api_key, labels.api_key_alias, labels.team, labels.team_alias)
        for outcome in outcomes:
            metric = (
                self.metrics.successful_fallbacks
                if outcome.succeeded
                else self.metrics.failed_fallbacks
            )
            values = (
                outcome.requested_group, outcome.fallback_group, *caller,
                str(outcome.status_code), outcome.error_class,
            )  # fmt: skip
            self._child(metric, values).inc()


EntityOf = Callable[[str, str], "Entity | None"]
RefSpendOf = Callable[[tuple[str, str]], float]


def _no_entity(_kind: str, _id: str) -> Entity | None:
    return None


def _no_spend(_ref: tuple[str, str]) -> float:
    return 0.0


@dataclass
class BudgetGaugeHook:
    """Budget and rate-limit gauges, refreshed for the entities each request touched."""

    metrics: GatewayMetrics
    key_spend: SpendOf
    entity: EntityOf = _no_entity
    spend: RefSpendOf = _no_spend
    # `labels(...)` validates its arguments and takes the metric's lock on every call: it was
    # most of this hook's cost, paid on every request of a key with a budget
    _child: _Children = field(default_factory=_Children, init=False)

    async def pre_call(self, record: CallRecord) -> None:
        return None

    async def post_call(self, record: CallRecord) -> None:
        principal = record.principal
        self._key_limits(record)
        self._provider_limits(record)
        if principal.team_id:
            self._team(principal.team_id)
        if principal.user_id:
            self._user(principal.user_id)
        if principal.token is None or principal.max_budget is None:
            return
        key = (principal.token, principal.key_alias or "")
        self._child(self.metrics.key_max_budget, key).set(principal.max_budget)
        remaining = principal.max_budget - self.key_spend(principal.token)
        self._child(self.metrics.remaining_key_budget, key).set(remaining)

    def _key_limits(self, record: CallRecord) -> None:
        """The limits hook's remaining-requests/tokens answer headers, as gauges."""
        ctx = current_context()
        principal = record.principal
        if ctx is None or principal.token is None:
            return
        values = (
            principal.token,
            principal.key_alias or "",
            record.model_group,
            record.deployment.id if record.deployment is not None else "",
        )
        for header, gauge in (
            (REMAINING_REQUESTS_HEADER, self.metrics.remaining_key_requests_for_model),
            (REMAINING_TOKENS_HEADER, self.metrics.remaining_key_tokens_for_model),
        ):
            found = ctx.response_headers.get(header)
            if found is not None and found.lstrip("-").isdigit():
                self._child(gauge, values).set(int(found))

    def _provider_limits(self, record: CallRecord) -> None:
        """The provider's own headroom for the deployment that answered (upstream headers)."""
        ctx = current_context()
        deployment = record.deployment
        if ctx is None or ctx.provider_remaining is None or deployment is None:
            return
        principal = record.principal
        values = (
            record.model_group, deployment.provider, deployment.api_base or "", deployment.model,
            principal.token or "", principal.key_alias or "", deployment.id,
        )  # fmt: skip
        remaining = ctx.provider_remaining
        if remaining.requests is not None:
            self._child(self.metrics.remaining_requests, values).set(remaining.requests)
        if remaining.tokens is not None:
            self._child(self.metrics.remaining_tokens, values).set(remaining.tokens)

    def _team(self, team_id: str) -> None:
        team = self.entity("team", team_id)
        if team is None or team.limits.max_budget is None:
            return
        labels = (team_id, team.alias or "")
        m, child = self.metrics, self._child
        child(m.team_max_budget, labels).set(team.limits.max_budget)
        child(m.remaining_team_budget, labels).set(
            team.limits.max_budget - self.spend(("team", team_id))
        )
        hours = _hours_until(team.limits.budget_reset_at)
        if hours is not None:
            child(m.team_budget_remaining_hours, labels).set(hours)

    def _user(self, user_id: str) -> None:
        user = self.entity("user", user_id)
        if user is None or user.limits.max_budget is None:
            return
        m, child, labels = self.metrics, self._child, (user_id,)
        child(m.user_max_budget, labels).set(user.limits.max_budget)
        child(m.remaining_user_budget, labels).set(
            user.limits.max_budget - self.spend(("user", user_id))
        )
        hours = _hours_until(user.limits.budget_reset_at)
        if hours is not None:
            child(m.user_budget_remaining_hours, labels).set(hours)


REMAINING_REQUESTS_HEADER = "x-ratelimit-remaining-requests"
REMAINING_TOKENS_HEADER = "x-ratelimit-remaining-tokens"


def _hours_until(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds() / 3600)
