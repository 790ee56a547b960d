"""Health: liveness and readiness without auth (for probes), `/health` with auth (LiteLLM's
per-deployment check, which makes a tiny real call to each deployment)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import __version__
from gateway.deployments import Deployment
from gateway.errors import GatewayError, PermissionDeniedError
from gateway.http_io import JSONResponse
from gateway.providers.base import ProviderCall
from gateway.state import GatewayState

HEALTH_CHECK_TIMEOUT = 20.0


def _describe(deployment: Deployment) -> dict[str, Any]:
    # Never the api_key: this output is for operators' dashboards.
    return {
        "model": f"{deployment.provider}/{deployment.model}",
        "model_name": deployment.model_name,
        "model_id": deployment.id,
        "api_base": deployment.api_base,
    }


async def _check(state: GatewayState, deployment: Deployment) -> tuple[bool, dict[str, Any]]:
    described = _describe(deployment)
    try:
        provider = state.providers.get(deployment.provider)
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


def routes(state: GatewayState) -> list[Route]:
    async def liveliness(_request: Request) -> Response:
        return JSONResponse("I'm alive!")

    async def readiness(_request: Request) -> Response:
        accounts = state.accounts
        db = "Not connected"
        if accounts is not None:
            db = "connected" if accounts.ready and accounts.db.reachable else "disconnected"
        return JSONResponse(
            {
                "status": "healthy",
                "db": db,
                "cache": None,
                "version": __version__,
                "models": len(state.groups.all()),
            }
        )

    async def health(request: Request) -> Response:
        # It calls every deployment and shows api_base and upstream errors: operators only.
        if not (await state.authenticator.authenticate(request.headers)).is_admin:
            raise PermissionDeniedError("Only the master key (admin) may call /health.")
        results = await asyncio.gather(*(_check(state, d) for d in state.groups.all()))
        healthy = [info for ok, info in results if ok]
        unhealthy = [info for ok, info in results if not ok]
        return JSONResponse(
            {
                "healthy_endpoints": healthy,
                "unhealthy_endpoints": unhealthy,
                "healthy_count": len(healthy),
                "unhealthy_count": len(unhealthy),
            }
        )

    return [
        Route("/health/liveliness", liveliness, methods=["GET"]),
        Route("/health/liveness", liveliness, methods=["GET"]),
        Route("/health/readiness", readiness, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
