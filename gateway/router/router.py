"""The router: `run(group, attempt, options)` is the single seam every upstream call goes
through. It picks a deployment by strategy, runs the attempt on it, retries within the
group (as many times as `num_retries`, or `retry_policy` for the first failure's class),
cools down failing deployments and falls back across groups.

A stream's attempt returns after its first chunk, so a stream that fails before it is
retried or falls back like any call; one that fails later is the relay's business.

Response headers (set on the current `RequestContext`, success or failure):
    x-litellm-model-group           the model group that answered
    x-litellm-model-id              the deployment id that answered
    x-litellm-attempted-retries     retries made, summed over every group tried
    x-litellm-attempted-fallbacks   fallback groups tried
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from gateway.context import FallbackOutcome, current_context
from gateway.deployments import Deployment
from gateway.errors import (
    BadRequestError,
    GatewayError,
    RateLimitError,
    RequestTimeoutError,
)
from gateway.router.cooldown import CooldownPolicy
from gateway.router.fallbacks import FallbackMap, Fallbacks, parse_fallbacks
from gateway.router.groups import ModelGroups
from gateway.router.retry import DEFAULT_NUM_RETRIES, Backoff, is_retryable
from gateway.router.retry_policy import RetryPolicies
from gateway.router.state import Admission, LocalState, RouterState
from gateway.router.strategies import SimpleShuffle, Strategy
from gateway.tracing.router import AttemptTracing

if TYPE_CHECKING:
    from gateway.hooks import CallType

T = TypeVar("T")
Attempt = Callable[[Deployment], Awaitable[T]]

MODEL_GROUP_HEADER = "x-litellm-model-group"
MODEL_ID_HEADER = "x-litellm-model-id"
RETRIES_HEADER = "x-litellm-attempted-retries"
FALLBACKS_HEADER = "x-litellm-attempted-fallbacks"


class NoDeploymentsAvailableError(RateLimitError):
    """Every deployment of a group is cooling down or at its limits (LiteLLM's 429)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Per-request routing options, from the request body."""

    stream: bool = False
    num_retries: int | None = None
    timeout: float | None = None
    fallbacks: tuple[str, ...] | FallbackMap | None = None
    context_window_fallbacks: FallbackMap | None = None
    call_type: CallType = "chat"  # what the attempts' spans name as their operation

    @classmethod
    def from_body(
        cls, body: dict[str, Any], *, stream: bool, call_type: CallType = "chat"
    ) -> RunOptions:
        retries = body.get("num_retries")
        if retries is not None and (
            isinstance(retries, bool) or not isinstance(retries, int) or retries < 0
        ):
            raise BadRequestError(
                "num_retries must be a non-negative integer.", param="num_retries"
            )
        timeout = body.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
        ):
            raise BadRequestError("timeout must be a positive number of seconds.", param="timeout")
        raw = body.get("fallbacks")
        fallbacks: tuple[str, ...] | FallbackMap | None = None
        if raw is not None:
            if not isinstance(raw, list):
                raise BadRequestError("fallbacks must be a list of model names.", param="fallbacks")
            if all(isinstance(item, str) for item in raw):
                fallbacks = tuple(raw)
            else:
                fallbacks = parse_fallbacks(raw, "fallbacks")
        raw_cw = body.get("context_window_fallbacks")
        context_window = None
        if raw_cw is not None:
            if not isinstance(raw_cw, list):
                raise BadRequestError(
                    "context_window_fallbacks must be a list.", param="context_window_fallbacks"
                )
            context_window = parse_fallbacks(raw_cw, "context_window_fallbacks")
        return cls(
            stream=stream,
            num_retries=retries,
            timeout=float(timeout) if timeout is not None else None,
            fallbacks=fallbacks,
            context_window_fallbacks=context_window,
            call_type=call_type,
        )


@dataclass(slots=True)
class _Tally:
    retries: int = 0
    fallbacks: int = 0


@dataclass
class Router:
    groups: ModelGroups
    strategy: Strategy = field(default_factory=lambda: SimpleShuffle(random.Random()))
    state: RouterState = field(default_factory=LocalState)
    fallbacks: Fallbacks = field(default_factory=Fallbacks)
    cooldown: CooldownPolicy = field(default_factory=CooldownPolicy)
    num_retries: int = DEFAULT_NUM_RETRIES
    retry_policies: RetryPolicies = field(default_factory=RetryPolicies)
    backoff: Backoff = field(default_factory=Backoff)
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    attempt_spans: AttemptTracing = field(default_factory=AttemptTracing)

    async def run(self, group: str, attempt: Attempt[T], options: RunOptions | None = None) -> T:
        opts = options or RunOptions()
        tally = _Tally()
        try:
            try:
                return await self._run_group(group, attempt, opts, tally)
            except GatewayError as first_error:
                targets = self.fallbacks.for_failure(
                    group, first_error, opts.fallbacks, opts.context_window_fallbacks
                )
                for target in targets:
                    if target not in self.groups:
                        continue
                    tally.fallbacks += 1
                    try:
                        result = await self._run_group(target, attempt, opts, tally)
                    except GatewayError:
                        _note_fallback(group, target, first_error, succeeded=False)
                        continue
                    _note_fallback(group, target, first_error, succeeded=True)
                    return result
                raise
        finally:
            ctx = current_context()
            if ctx is not None:
                ctx.response_headers[RETRIES_HEADER] = str(tally.retries)
                ctx.response_headers[FALLBACKS_HEADER] = str(tally.fallbacks)

    async def _run_group(
        self, group: str, attempt: Attempt[T], opts: RunOptions, tally: _Tally
    ) -> T:
        deployments = self.groups.get(group)
        retries = self.num_retries if opts.num_retries is None else opts.num_retries
        # set from the first failure when `retry_policy` has a count for its class
        by_policy = False
        tried: set[str] = set()
        last_error: GatewayError | None = None
        round_number = 0
        while True:
            if round_number:
                tally.retries += 1
            try:
                deployment = await self._admit(group, deployments, tried, opts.stream)
            except NoDeploymentsAvailableError:
                if last_error is not None:
                    raise last_error from None
                raise
            tried.add(deployment.id)
            try:
                spans = self.attempt_spans
                with spans.span(
                    group, deployment, round_number, tally.fallbacks, opts.call_type
                ) as span:
                    result = await self._attempt(attempt, deployment, opts)
                    spans.record(span, result)
            except GatewayError as error:
                now = self.clock()
                await self.state.release(deployment.id, now, None, opts.stream)
                if len(deployments) > 1 or self.fallbacks.has_generic(group):
                    # Cooldowns move traffic elsewhere. A group's only deployment with no
                    # fallback has nowhere to send it: cooling it would only turn one upstream
                    # error into seconds of synthetic 429s (LiteLLM spares such groups too).
                    await self.cooldown.failed(self.state, deployment, error, now)
                last_error = error
                if round_number == 0 and opts.num_retries != 0 and self.retry_policies:
                    granted = self.retry_policies.retries_for(group, error)
                    if granted is not None:
                        retries, by_policy = granted, True
                if (not by_policy and not is_retryable(error)) or round_number >= retries:
                    raise
                round_number += 1
                await self._pause_before_retry(deployments, tried, error, round_number)
                continue
            except BaseException:
                await self.state.release(deployment.id, self.clock(), None, opts.stream)
                raise
            self._answered(group, deployment)
            return result

    async def _attempt(self, attempt: Attempt[T], deployment: Deployment, opts: RunOptions) -> T:
        limit = opts.timeout or (deployment.stream_timeout if opts.stream else deployment.timeout)
        started = time.perf_counter()
        if limit is None:
            result = await attempt(deployment)
        else:
            try:
                async with asyncio.timeout(limit) as scope:
                    result = await attempt(deployment)
            except TimeoutError:
                if not scope.expired():
                    raise
                raise RequestTimeoutError(
                    f"Request timed out after {limit:g}s (model={deployment.model_name}, "
                    f"deployment={deployment.id})."
                ) from None
        await self.state.release(
            deployment.id, self.clock(), time.perf_counter() - started, opts.stream
        )
        return result

    def _available(
        self, deployments: Sequence[Deployment], tried: set[str], now: float
    ) -> Sequence[Deployment]:
        blocked = self.state.blocked
        if not blocked and not tried:
            return deployments  # the common case: nothing to filter
        fresh = [d for d in deployments if d.id not in tried and blocked.get(d.id, 0.0) <= now]
        if fresh or not tried:
            return fresh
        # Every untried deployment is out: a retry may reuse one that already failed.
        return [d for d in deployments if blocked.get(d.id, 0.0) <= now]

    async def _admit(
        self, group: str, deployments: Sequence[Deployment], tried: set[str], stream: bool
    ) -> Deployment:
        now = self.clock()
        candidates = self._available(deployments, tried, now)
        refusals: list[Admission] = []
        while candidates:
            # Lower `order` first (as LiteLLM): ordered deployments shadow unordered ones.
            lowest = min((d.order for d in candidates if d.order is not None), default=None)
            pool = candidates if lowest is None else [d for d in candidates if d.order == lowest]
            deployment = self.strategy.pick(pool, self.state, now, stream)
            verdict = await self.state.acquire(deployment, now)
            if verdict is Admission.OK:
                return deployment
            refusals.append(verdict)
            candidates = [d for d in candidates if d.id != deployment.id]  # a copy, never the group
        raise self._none_available(group, deployments, refusals, now)

    def _none_available(
        self,
        group: str,
        deployments: Sequence[Deployment],
        refusals: list[Admission],
        now: float,
    ) -> NoDeploymentsAvailableError:
        waits = [
            self.state.view(d.id).cooldown_until - now
            for d in deployments
            if self.state.view(d.id).cooldown_until > now
        ]
        retry_after = max(1, math.ceil(min(waits))) if waits else 60 - int(now % 60)
        reasons = sorted({r.value for r in refusals}) or ["cooling down or at their limits"]
        return NoDeploymentsAvailableError(
            f"No deployments available for selected model, Try again in {retry_after} "
            f"seconds. Passed model={group}. Deployments: {', '.join(reasons)}.",
            headers={"retry-after": str(retry_after)},
        )

    async def _pause_before_retry(
        self,
        deployments: Sequence[Deployment],
        tried: set[str],
        error: GatewayError,
        retry_number: int,
    ) -> None:
        """Other errors retry at once; a rate limit waits unless a fresh peer can take it."""
        if not isinstance(error, RateLimitError):
            return
        now = self.clock()
        blocked = self.state.blocked
        open_ = [d for d in deployments if blocked.get(d.id, 0.0) <= now]
        if not open_ or any(d.id not in tried for d in open_):
            return  # a fresh peer takes it now, or nothing can and we fail fast
        await self.sleep(self.backoff.delay(retry_number, error, self.rng))

    async def aclose(self) -> None:
        await self.state.aclose()

    def _answered(self, group: str, deployment: Deployment) -> None:
        ctx = current_context()
        if ctx is not None:
            ctx.response_headers[MODEL_GROUP_HEADER] = group
            ctx.response_headers[MODEL_ID_HEADER] = deployment.id


def _note_fallback(group: str, target: str, error: GatewayError, *, succeeded: bool) -> None:
    ctx = current_context()
    if ctx is not None:
        ctx.fallbacks.append(
            FallbackOutcome(group, target, error.status_code, type(error).__name__, succeeded)
        )
