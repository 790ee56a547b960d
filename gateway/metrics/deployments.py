"""Deployment health for Prometheus: `litellm_deployment_state` read from the router's state
at scrape time, and `litellm_deployment_cooled_down` counted as cooldowns happen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.deployments import Deployment
from gateway.errors import GatewayError
from gateway.metrics.definitions import GatewayMetrics
from gateway.router import Router
from gateway.router.cooldown import CooldownPolicy
from gateway.router.state import RouterState, minute_of

HEALTHY, PARTIAL_OUTAGE, COMPLETE_OUTAGE = 0.0, 1.0, 2.0


def deployment_labels(deployment: Deployment) -> list[str]:
    return [deployment.model, deployment.id, deployment.api_base or "", deployment.provider]


class DeploymentStateCollector(Collector):
    """2 while cooling down, 1 after failures in the current minute, else 0 (LiteLLM's scale)."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "litellm_deployment_state",
            "Deployment state: 0 healthy, 1 partial outage, 2 complete outage",
            labels=["litellm_model_name", "model_id", "api_base", "api_provider"],
        )
        now = self.router.clock()
        for deployment in self.router.groups.all():
            stats = self.router.state.view(deployment.id)
            if stats.cooldown_until > now:
                value = COMPLETE_OUTAGE
            elif stats.fails and stats.fail_minute == minute_of(now):
                value = PARTIAL_OUTAGE
            else:
                value = HEALTHY
            family.add_metric(deployment_labels(deployment), value)
        yield family


@dataclass(frozen=True, slots=True)
class CountingCooldown(CooldownPolicy):
    """The router's cooldown policy, unchanged, plus a count of every cooldown it starts."""

    on_cooled: Callable[[Deployment, GatewayError], None] | None = None

    async def failed(
        self, state: RouterState, deployment: Deployment, error: GatewayError, now: float
    ) -> bool:
        cooled = await CooldownPolicy.failed(self, state, deployment, error, now)
        if cooled and self.on_cooled is not None:
            self.on_cooled(deployment, error)
        return cooled


def observe_router(router: Router, metrics: GatewayMetrics) -> DeploymentStateCollector:
    def cooled(deployment: Deployment, error: GatewayError) -> None:
        metrics.deployment_cooled_down.labels(
            *deployment_labels(deployment), str(error.status_code)
        ).inc()

    policy = router.cooldown
    router.cooldown = CountingCooldown(
        allowed_fails=policy.allowed_fails,
        cooldown_seconds=policy.cooldown_seconds,
        on_cooled=cooled,
    )
    return DeploymentStateCollector(router)
