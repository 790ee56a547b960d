"""The limits `RequestHook`: model access, budgets and rpm/tpm/parallel limits, answered from
memory. `pre_call` reserves the request's estimated cost and tokens; `post_call` settles.

Response headers for a virtual key (set in `pre_call`, refreshed in `post_call`, so a
non-streaming response carries the spend including itself; a stream the spend before it):
    x-litellm-key-spend               the key's spend so far (USD)
    x-litellm-key-max-budget          its max_budget, when it has one
    x-ratelimit-limit-requests        its rpm_limit          } when it has one; remaining
    x-ratelimit-remaining-requests    left this minute       } counts include requests
    x-litellm-key-remaining-requests  (same, LiteLLM's name) } in flight
    x-ratelimit-limit-tokens / x-ratelimit-remaining-tokens / x-litellm-key-remaining-tokens
Refusals are 429s with code budget_exceeded / rate_limit_exceeded /
parallel_request_limit_exceeded, naming the key, team, user or end user, and `retry-after`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gateway.context import current_context
from gateway.deployments import Deployment
from gateway.errors import PermissionDeniedError
from gateway.hooks import CallRecord
from gateway.keys.cache import EntityCache
from gateway.keys.model import Entity
from gateway.limits.ledger import Check, LocalCounters, MemoryLedger, Reservation
from gateway.spend.prices import PriceTable
from gateway.spend.rows import SpendLogSettings, row_from_record

if TYPE_CHECKING:
    from gateway.limits.redis_counters import RedisCounters
    from gateway.spend.stream import SpendStream

ALL_MODELS = frozenset({"*", "all-proxy-models", "all-team-models"})
CHARS_PER_TOKEN = 4
MAX_CACHED_CHECKS = 50_000


def allows(models: tuple[str, ...], model: str) -> bool:
    if not models or ALL_MODELS.intersection(models):
        return True
    return any(m == model or (m.endswith("/*") and model.startswith(m[:-1])) for m in models)


def _check(entity: Entity | None, kind: Any, entity_id: str) -> Check:
    if entity is None:
        return Check(kind=kind, id=entity_id)
    limits = entity.limits
    return Check(
        kind=kind,
        id=entity_id,
        max_budget=limits.max_budget,
        budget_duration=limits.budget_duration,
        rpm_limit=limits.rpm_limit,
        tpm_limit=limits.tpm_limit,
        max_parallel_requests=limits.max_parallel_requests,
    )


def estimate_prompt_tokens(body: dict[str, Any]) -> int:
    """A cheap upper-ish bound for reservations; the real count comes from usage."""
    size = 0
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            size += len(content)
        elif isinstance(content, list):
            size += sum(
                len(str(part.get("text", ""))) for part in content if isinstance(part, dict)
            )
    prompt = body.get("prompt") or body.get("input")
    if isinstance(prompt, str):
        size += len(prompt)
    elif isinstance(prompt, list):
        size += sum(len(p) for p in prompt if isinstance(p, str))
    return size // CHARS_PER_TOKEN


def max_output_tokens(body: dict[str, Any]) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and value > 0:
            return value
    return 0


@dataclass
class LimitsHook:
    cache: EntityCache
    ledger: MemoryLedger
    prices: PriceTable
    deployments_of: Callable[[str], list[Deployment]]
    counters: LocalCounters | RedisCounters | None = None
    _reservations: dict[int, tuple[Reservation, list[Check]]] = field(default_factory=dict)
    stream: SpendStream | None = None  # settle and append the spend row in one transaction
    spend_log: SpendLogSettings | None = None  # how that row is built (as the spend hook does)
    _local: LocalCounters = field(init=False)  # the counters when none are given
    # Each entity's Check, reused while the cache holds the same (frozen) entity object.
    _checks: dict[tuple[str, str], tuple[Entity | None, Check]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        self._local = LocalCounters(self.ledger)

    def _check(self, entity: Entity | None, kind: Any, entity_id: str) -> Check:
        found = self._checks.get((kind, entity_id))
        if found is not None and found[0] is entity:
            return found[1]
        if len(self._checks) >= MAX_CACHED_CHECKS:
            self._checks.clear()
        check = _check(entity, kind, entity_id)
        self._checks[(kind, entity_id)] = (entity, check)
        return check

    def checks_for(self, record: CallRecord) -> list[Check]:
        principal = record.principal
        checks: list[Check] = []
        model = record.model_group
        requested = record.body.get("model")

        def permitted(models: tuple[str, ...]) -> bool:
            # a key or team may name a group or one of its aliases (router model_group_alias)
            return allows(models, model) or (
                isinstance(requested, str) and requested != model and allows(models, requested)
            )

        if principal.token is not None:
            key = self.cache.get("key", principal.token)
            checks.append(self._check(key, "key", principal.token))
            if not permitted(principal.models):
                raise PermissionDeniedError(
                    f"This key is not allowed to use model={model}. Allowed models: "
                    f"{', '.join(principal.models)}.",
                    code="model_access_denied",
                    param="model",
                )
        if principal.team_id is not None:
            team = self.cache.get("team", principal.team_id)
            if team is not None:
                if team.limits.blocked:
                    raise PermissionDeniedError(
                        f"Team '{team.id}' is blocked.", code="team_blocked"
                    )
                if not permitted(team.limits.models):
                    raise PermissionDeniedError(
                        f"Team '{team.id}' is not allowed to use model={model}.",
                        code="model_access_denied",
                        param="model",
                    )
            checks.append(self._check(team, "team", principal.team_id))
        if principal.user_id is not None:
            checks.append(
                self._check(self.cache.get("user", principal.user_id), "user", principal.user_id)
            )
        end_user_id = record.end_user
        if end_user_id is not None:
            end_user = self.cache.get("end_user", end_user_id)
            if end_user is not None and end_user.limits.blocked:
                raise PermissionDeniedError(
                    f"End user '{end_user_id}' is blocked.", code="end_user_blocked"
                )
            checks.append(self._check(end_user, "end_user", end_user_id))
        return checks

    async def pre_call(self, record: CallRecord) -> None:
        checks = self.checks_for(record)
        if not checks:
            return
        deployments = self.deployments_of(record.model_group)
        if any(check.max_budget is not None for check in checks):
            self.prices.require_priced(deployments, record.model_group)
        prompt = estimate_prompt_tokens(record.body)
        output = max_output_tokens(record.body)
        cost = max((self.prices.estimate(d, prompt, output) for d in deployments), default=0.0)
        now = datetime.now(UTC)
        counters = self.counters or self._local
        reservation = await counters.admit(checks, cost, prompt + output, now)
        self._reservations[id(record)] = (reservation, checks)
        self._headers(checks, now)

    async def post_call(self, record: CallRecord) -> None:
        found = self._reservations.pop(id(record), None)
        if found is None:
            return
        reservation, checks = found
        cost = self.prices.cost(record)
        counters = self.counters or self._local
        tokens = record.prompt_tokens + record.completion_tokens
        # with a spend stream the counters are Redis's (not tested by class: redis-py is
        # imported only when Redis is configured)
        if (
            self.stream is not None
            and not isinstance(counters, LocalCounters)
            and reservation.shared
        ):
            row = row_from_record(record, cost, self.spend_log)
            entry = (self.stream.key, self.stream.entry(row))
            appended = await counters.settle(reservation, cost, tokens, append=entry)
            self.stream.hand_over(id(record), row, appended)
        else:
            await counters.settle(reservation, cost, tokens)
        self._headers(checks, datetime.now(UTC))

    def _headers(self, checks: list[Check], now: datetime) -> None:
        ctx = current_context()
        key = checks[0] if checks and checks[0].kind == "key" else None
        if ctx is None or key is None:
            return
        headers = ctx.response_headers
        headers["x-litellm-key-spend"] = repr(self.ledger.spend(key.ref))
        if key.max_budget is not None:
            headers["x-litellm-key-max-budget"] = repr(key.max_budget)
        requests, tokens = self.ledger.remaining(key, now)
        if requests is not None:
            headers["x-ratelimit-limit-requests"] = str(key.rpm_limit)
            headers["x-ratelimit-remaining-requests"] = str(requests)
            headers["x-litellm-key-remaining-requests"] = str(requests)
        if tokens is not None:
            headers["x-ratelimit-limit-tokens"] = str(key.tpm_limit)
            headers["x-ratelimit-remaining-tokens"] = str(tokens)
            headers["x-litellm-key-remaining-tokens"] = str(tokens)
