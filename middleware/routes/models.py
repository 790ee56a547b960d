"""`GET /v1/models`: passed through from the gateway, status and body as they are."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from middleware.http_io import bearer_key
from middleware.routes._state import app_state


async def list_models(request: Request) -> Response:
    key = bearer_key(request.headers)
    response = await app_state(request).gateway.get_raw(
        "/v1/models", f"Bearer {key}" if key else None
    )
    return Response(
        response.content,
        status_code=response.status_code,
        media_type=response.headers.get("content-type", "application/json"),
    )


routes = [
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/models", list_models, methods=["GET"]),
]
