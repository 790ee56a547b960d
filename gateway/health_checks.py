"""LiteLLM's `/health` check (a tiny real call to each deployment), on demand or in the
background (`general_settings.background_health_checks`, every `health_check_interval`
seconds, LiteLLM's default 300): then `/health` answers from the last round at once instead of
calling every upstream per request, which costs tokens and time on large model lists."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from gateway.background import cancel_and_wait
from gateway.deployments import Deployment
from gateway.errors import GatewayError
from gateway.providers.base import ProviderCall
from gateway.providers.registry import ProviderRegistry

HEALTH_CHECK_TIMEOUT = 20.0
DEFAULT_INTERVAL_SECONDS = 300.0

log = structlog.get_logger("toolrelay.gateway.health")


def describe(deployment: Deployment) -> dict[str, Any]:
    # Never the api_key: this output is for operators' dashboards.
    return {
        "model": f"{deployment.provider}/{deployment.model}",
        "model_name": deployment.model_name,
        "model_id": deployment.id,
        "api_base": deployment.api_base,
    }


async def check_deployment(
    providers: ProviderRegistry, deployment: Deployment
) -> tuple[bool, dict[str, Any]]:
    described = describe(deployment)
    try:
        provider = providers.get(deployment.provider)
        if deployment.mode == "embedding":
            call = ProviderCall(
                deployment, {"input": ["ping"]}, HEALTH_CHECK_TIMEOUT, uuid.uuid4().hex
            )
            await provider.embed(call)
        else:
            body = {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}
            call = ProviderCall(
                deployment, body, HEALTH_CHECK_TIMEOUT, uuid.uuid4().hex, drop_params=True
            )
            await provider.chat(call)
    except GatewayError as exc:
        return False, {**described, "error": exc.message}
    return True, described


@dataclass(frozen=True)
class HealthReport:
    healthy: list[dict[str, Any]]
    unhealthy: list[dict[str, Any]]
    checked_at: float  # unix time the round finished

    def body(self) -> dict[str, Any]:
        return {
            "healthy_endpoints": self.healthy,
            "unhealthy_endpoints": self.unhealthy,
            "healthy_count": len(self.healthy),
            "unhealthy_count": len(self.unhealthy),
        }


async def check_all(providers: ProviderRegistry, deployments: Sequence[Deployment]) -> HealthReport:
    results = await asyncio.gather(*(check_deployment(providers, d) for d in deployments))
    return HealthReport(
        healthy=[info for ok, info in results if ok],
        unhealthy=[info for ok, info in results if not ok],
        checked_at=time.time(),
    )


@dataclass
class BackgroundHealth:
    """Checks every deployment each `interval` seconds; `/health` reads `latest`."""

    providers: ProviderRegistry
    deployments: Callable[[], Sequence[Deployment]]  # the live list (runtime models too)
    interval: float = DEFAULT_INTERVAL_SECONDS
    latest: HealthReport | None = None
    _first: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="background-health-checks")

    async def report(self) -> HealthReport:
        """The last round's report (waiting for the first round right after start)."""
        await self._first.wait()
        assert self.latest is not None
        return self.latest

    async def _run(self) -> None:
        while True:
            report = await check_all(self.providers, self.deployments())
            self.latest = report
            self._first.set()
            log.info(
                "background health check",
                healthy=len(report.healthy),
                unhealthy=len(report.unhealthy),
                next_in_seconds=self.interval,
            )
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
