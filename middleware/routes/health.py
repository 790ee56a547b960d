"""Liveness, readiness (gateway reachability and each MCP server), and `/metrics`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from middleware.http_io import JSONResponse
from middleware.routes._state import app_state


async def liveliness(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readiness(request: Request) -> Response:
    state = app_state(request)
    reachable = await state.gateway.reachable()
    servers = state.pool.status()
    healthy = all(s["health"] == "healthy" for s in servers)
    status = "ok" if reachable and healthy else ("degraded" if reachable else "unavailable")
    body = {
        "status": status,
        "gateway": {"url": state.gateway.base_url, "reachable": reachable},
        "mcp_servers": servers,
    }
    return JSONResponse(body, status_code=200 if reachable else 503)


async def metrics(request: Request) -> Response:
    return Response(
        app_state(request).metrics.render(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )


routes = [
    Route("/health/liveliness", liveliness, methods=["GET"]),
    Route("/health/liveness", liveliness, methods=["GET"]),
    Route("/health/readiness", readiness, methods=["GET"]),
    Route("/health", readiness, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
