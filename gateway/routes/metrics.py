"""`GET /metrics`: Prometheus text format, behind the API key unless
`litellm_settings.require_auth_for_metrics_endpoint: false` (LiteLLM's setting)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.metrics import render
from gateway.state import GatewayState


def requires_auth(state: GatewayState) -> bool:
    """On unless set to false (LiteLLM reads it from litellm_settings; general_settings too)."""
    file = state.config.file
    for section in (file.litellm_settings, file.general_settings):
        value = (section.model_extra or {}).get("require_auth_for_metrics_endpoint")
        if isinstance(value, str):  # from os.environ/...
            return value.strip().lower() not in {"false", "0", "no", "off"}
        if value is not None:
            return value is not False
    return True


def routes(state: GatewayState) -> list[Route]:
    protected = requires_auth(state)

    async def scrape(request: Request) -> Response:
        if protected:
            await state.authenticator.authenticate(request.headers)
        body, content_type = render(state.metrics)
        return Response(body, media_type=content_type)

    return [
        Route("/metrics", scrape, methods=["GET"]),
        Route("/metrics/", scrape, methods=["GET"]),
    ]
