"""Admin page sign-in with the authorization code flow and PKCE.

The browser makes the code verifier and challenge, goes to the issuer, and comes back to
`/ui?code=...&state=...`; it then posts the code and verifier here. The gateway exchanges
them at the token endpoint (adding the client secret, if any, and sparing the browser CORS),
checks the access token with the gateway's own authenticator, and hands it back only if it
belongs to an admin. The page then uses it as its bearer token, like a master key.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import httpx
import pydantic
import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from common.config import first_problem
from gateway.errors import (
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    ServiceUnavailableError,
)
from gateway.http_io import JSONResponse, read_json_object
from gateway.oidc.settings import OIDCSettings, oidc_settings
from gateway.state import GatewayState

log = structlog.get_logger("toolrelay.gateway.oidc")
MAX_BODY = 16 * 1024


class CodeExchange(pydantic.BaseModel):
    code: str = pydantic.Field(min_length=1, max_length=4096)
    code_verifier: str = pydantic.Field(min_length=43, max_length=128)  # RFC 7636
    redirect_uri: str = pydantic.Field(min_length=1, max_length=2048)


def _parse(body: dict[str, object]) -> CodeExchange:
    try:
        exchange = CodeExchange.model_validate(body)
    except pydantic.ValidationError as exc:
        field, message = first_problem(exc)
        raise BadRequestError(f"{field}: {message.lower()}", param=field) from None
    if urlsplit(exchange.redirect_uri).path != "/ui":
        raise BadRequestError("redirect_uri must be this gateway's /ui page.", param="redirect_uri")
    return exchange


async def _token(state: GatewayState, settings: OIDCSettings, exchange: CodeExchange) -> str:
    form = {
        "grant_type": "authorization_code",
        "code": exchange.code,
        "redirect_uri": exchange.redirect_uri,
        "client_id": settings.client_id,
        "code_verifier": exchange.code_verifier,
    }
    if settings.client_secret:
        form["client_secret"] = settings.client_secret
    try:
        response = await state.http.post(settings.token_endpoint, data=form, timeout=15.0)
    except httpx.HTTPError as exc:
        raise ServiceUnavailableError(
            f"The sign-in provider is not reachable ({type(exc).__name__})."
        ) from exc
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200 or not isinstance(payload.get("access_token"), str):
        reason = payload.get("error_description") or payload.get("error") or response.status_code
        log.warning("OIDC code exchange refused", status=response.status_code, reason=str(reason))
        raise AuthenticationError(f"Sign-in failed: the provider refused the code ({reason}).")
    token: str = payload["access_token"]
    return token


def routes(state: GatewayState) -> list[Route]:
    settings = oidc_settings(state.config, os.environ)

    async def config(_request: Request) -> Response:
        return JSONResponse(settings.public() if settings else {"enabled": False})

    async def exchange(request: Request) -> Response:
        if settings is None:
            raise BadRequestError("Sign-in with an identity provider is not configured.")
        body = await read_json_object(request, MAX_BODY)
        token = await _token(state, settings, _parse(body))
        principal = await state.authenticator.authenticate({"authorization": f"Bearer {token}"})
        if not principal.is_admin:
            raise PermissionDeniedError(
                "Signed in, but this account has no admin role for the gateway.", code="admin_only"
            )
        return JSONResponse({"access_token": token, "user_id": principal.user_id})

    return [
        Route("/ui/oidc/config", config, methods=["GET"]),
        Route("/ui/oidc/token", exchange, methods=["POST"]),
    ]
