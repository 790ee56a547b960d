"""Per-deployment cooldowns: a cooled-down deployment is skipped by every pick until it
expires. A 429, an auth error (401/403) or a not-found (404) cools at once; other
deployment-side failures (timeouts, 5xx, connection errors) cool after more than
`allowed_fails` in one minute, so a deployment that times out repeatedly is taken out too.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from gateway.deployments import Deployment
from gateway.errors import GatewayError
from gateway.router.retry import cools_immediately, counts_against_deployment
from gateway.router.state import RouterState

DEFAULT_ALLOWED_FAILS = 3  # LiteLLM's defaults (litellm/constants.py)
DEFAULT_COOLDOWN_SECONDS = 5.0

log = structlog.get_logger("toolrelay.gateway.router")


@dataclass(frozen=True, slots=True)
class CooldownPolicy:
    allowed_fails: int = DEFAULT_ALLOWED_FAILS
    cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS

    @property
    def enabled(self) -> bool:
        return self.cooldown_seconds > 0

    async def failed(
        self, state: RouterState, deployment: Deployment, error: GatewayError, now: float
    ) -> bool:
        """Record `error` against `deployment`; True when it is now cooling down."""
        if not self.enabled or not counts_against_deployment(error):
            return False
        cooled = await state.record_failure(
            deployment.id,
            now,
            immediate=cools_immediately(error),
            allowed_fails=self.allowed_fails,
            cooldown_seconds=self.cooldown_seconds,
        )
        if cooled:
            log.warning(
                "deployment cooling down",
                model=deployment.model_name,
                deployment=deployment.id,
                seconds=self.cooldown_seconds,
                error_type=type(error).__name__,
            )
        return cooled
