"""`GET /metrics`: Prometheus text format.

The labels name every team, key alias and their spend, so only the master key (or another
admin) or the dedicated `general_settings.metrics_token` may scrape it, unless
`litellm_settings.require_auth_for_metrics_endpoint: false` (LiteLLM's setting) opens it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.auth import presented_key
from gateway.errors import PermissionDeniedError
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


def _is_metrics_token(headers: Mapping[str, str], metrics_token: str | None) -> bool:
    presented = presented_key(headers)
    if not metrics_token or presented is None:
        return False
    return hmac.compare_digest(presented.encode(), metrics_token.encode())


def routes(state: GatewayState) -> list[Route]:
    protected = requires_auth(state)
    metrics_token = state.config.file.general_settings.metrics_token

    async def scrape(request: Request) -> Response:
        if protected and not _is_metrics_token(request.headers, metrics_token):
            principal = await state.authenticator.authenticate(request.headers)
            if not principal.is_admin:
                raise PermissionDeniedError(
                    "Only the master key or general_settings.metrics_token may read /metrics.",
                    code="admin_only",
                )
        body, content_type = render(state.metrics)
        return Response(body, media_type=content_type)

    return [
        Route("/metrics", scrape, methods=["GET"]),
        Route("/metrics/", scrape, methods=["GET"]),
    ]
