"""Health: liveness and readiness without auth (for probes), `/health` with auth (LiteLLM's
per-deployment check, which makes a tiny real call to each deployment; from the last
background round when `background_health_checks` is on)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import __version__
from gateway.errors import PermissionDeniedError
from gateway.health_checks import check_all
from gateway.http_io import JSONResponse
from gateway.state import GatewayState


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
        if state.background_health is not None:
            report = await state.background_health.report()
            return JSONResponse({**report.body(), "checked_at": report.checked_at})
        report = await check_all(state.providers, state.groups.all())
        return JSONResponse(report.body())

    return [
        Route("/health/liveliness", liveliness, methods=["GET"]),
        Route("/health/liveness", liveliness, methods=["GET"]),
        Route("/health/readiness", readiness, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
