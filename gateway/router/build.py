"""Build the router from the config: strategy, retries, fallbacks, cooldowns, shared state."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import structlog

from gateway.config import LoadedConfig
from gateway.config.schema import RetryPolicy as RetryPolicySettings
from gateway.config.schema import RouterSettings
from gateway.hooks import CallRecord
from gateway.router.cooldown import DEFAULT_ALLOWED_FAILS, DEFAULT_COOLDOWN_SECONDS, CooldownPolicy
from gateway.router.fallbacks import Fallbacks, parse_fallbacks
from gateway.router.groups import ModelGroups
from gateway.router.retry import DEFAULT_NUM_RETRIES
from gateway.router.retry_policy import RetryPolicies, RetryPolicy
from gateway.router.router import Router
from gateway.router.state import LocalState, RouterState
from gateway.router.strategies import DEFAULT_STRATEGY, STRATEGIES, strategy_named

if TYPE_CHECKING:
    from gateway.redis_wiring import SharedRedis

DEFAULT_NAMESPACE = "toolrelay:router"
log = structlog.get_logger("toolrelay.gateway.router")


def build_router(
    config: LoadedConfig,
    groups: ModelGroups,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    rng: random.Random | None = None,
    redis: SharedRedis | None = None,
) -> Router:
    settings = config.file.router_settings
    litellm = config.file.litellm_settings
    rng = rng or random.Random()
    name = settings.routing_strategy
    if name not in STRATEGIES:
        log.warning(
            "unknown routing_strategy; using the default",
            routing_strategy=name,
            default=DEFAULT_STRATEGY,
            known=sorted(STRATEGIES),
        )
        name = DEFAULT_STRATEGY
    strategy = strategy_named(name, rng, settings.routing_strategy_args)
    fallbacks = Fallbacks(
        generic=parse_fallbacks(settings.fallbacks, "router_settings.fallbacks"),
        context_window=parse_fallbacks(
            settings.context_window_fallbacks, "router_settings.context_window_fallbacks"
        ),
        content_policy=parse_fallbacks(
            settings.content_policy_fallbacks, "router_settings.content_policy_fallbacks"
        ),
    )
    for missing in sorted(fallbacks.groups_named() - set(groups.names()) - {"*"}):
        log.warning("fallback names a model group that is not configured", model=missing)
    num_retries = settings.num_retries
    if num_retries is None:
        num_retries = litellm.num_retries
    cooldown = CooldownPolicy(
        allowed_fails=(
            DEFAULT_ALLOWED_FAILS if settings.allowed_fails is None else settings.allowed_fails
        ),
        cooldown_seconds=(
            0.0
            if settings.disable_cooldowns
            else DEFAULT_COOLDOWN_SECONDS
            if settings.cooldown_time is None
            else settings.cooldown_time
        ),
    )
    return Router(
        groups=groups,
        strategy=strategy,
        state=build_state(config, groups, namespace, redis),
        fallbacks=fallbacks,
        cooldown=cooldown,
        num_retries=DEFAULT_NUM_RETRIES if num_retries is None else num_retries,
        retry_policies=retry_policies(settings),
        rng=rng,
    )


def retry_policies(settings: RouterSettings) -> RetryPolicies:
    def policy(given: RetryPolicySettings) -> RetryPolicy:
        return RetryPolicy.from_mapping(given.model_dump(exclude_none=True))

    return RetryPolicies(
        general=policy(settings.retry_policy) if settings.retry_policy is not None else None,
        by_group={g: policy(p) for g, p in settings.model_group_retry_policy.items()},
    )


def build_state(
    config: LoadedConfig, groups: ModelGroups, namespace: str, redis: SharedRedis | None = None
) -> RouterState:
    if not config.redis_url:
        return LocalState(groups.all())
    # Imported here: only a gateway with Redis loads redis-py (about 7 MB resident).
    from gateway.router.redis_io import redis_client
    from gateway.router.redis_state import RedisState

    ttl = config.file.router_settings.routing_strategy_args.get("ttl", 3600.0)
    return RedisState(
        redis.client if redis is not None else redis_client(config.redis_url),
        groups.all(),
        namespace=namespace,
        latency_ttl=float(ttl),
        lease=redis.lease if redis is not None else None,
    )


class RouterUsageHook:
    """Feeds tokens used back to the router (tpm), once the call (or stream) has ended."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def pre_call(self, record: CallRecord) -> None:
        return None

    async def post_call(self, record: CallRecord) -> None:
        tokens = record.prompt_tokens + record.completion_tokens
        if record.deployment is not None and tokens:
            await self.router.state.record_tokens(record.deployment.id, tokens, self.router.clock())
