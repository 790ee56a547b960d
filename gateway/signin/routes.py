"""Sign-in routes of the admin page.

POST /ui/login           {username, password} → session cookie (rate-limited per client)
POST /ui/logout          clears the cookie (CSRF-checked like every cookie call)
GET  /ui/session         who is signed in, their role and CSRF token; which sign-ins exist
GET  /sso/key/generate   LiteLLM's SSO start: redirect to the provider
GET  /sso/callback       LiteLLM's SSO finish: cookie, then redirect to /ui
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pydantic
import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.config import ConfigError
from gateway.errors import AuthenticationError, BadRequestError, NotFoundError, RateLimitError
from gateway.http_io import JSONResponse, read_json_object
from gateway.jwt.settings import JWTAuthSettings
from gateway.keys.service import column_values
from gateway.keys.wire import NewUser
from gateway.roles import PROXY_ADMIN, PROXY_ADMIN_VIEWER
from gateway.signin import sso
from gateway.signin.password import admin_password
from gateway.signin.session import Session, SessionCodec, cookie_value
from gateway.signin.sso_settings import CALLBACK_PATH, START_PATH, sso_settings
from gateway.signin.throttle import LoginThrottle

if TYPE_CHECKING:  # gateway.state holds the session codec, so it imports this package
    from gateway.state import GatewayState

log = structlog.get_logger("toolrelay.gateway.signin")
MAX_BODY = 8 * 1024
_CHANGERS = frozenset({PROXY_ADMIN, "internal_user"})
_SEES_EVERYONE = frozenset({PROXY_ADMIN, PROXY_ADMIN_VIEWER})


class Credentials(pydantic.BaseModel):
    username: str = pydantic.Field(min_length=1, max_length=256)
    password: str = pydantic.Field(min_length=1, max_length=1024)


def _role_mappings(state: GatewayState) -> dict[str, str]:
    raw = state.config.file.general_settings.litellm_jwtauth
    try:
        settings = JWTAuthSettings.model_validate(dict(raw))
    except pydantic.ValidationError as exc:
        raise ConfigError(f"general_settings.litellm_jwtauth: {exc.errors()[0]['msg']}") from None
    return {m.role: m.internal_role for m in settings.role_mappings}


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _session_view(session: Session) -> dict[str, object]:
    return {
        **session.public(),
        "may_change": session.role in _CHANGERS,
        "sees_everyone": session.role in _SEES_EVERYONE,
    }


def routes(state: GatewayState, environ: Mapping[str, str] | None = None) -> list[Route]:
    env = os.environ if environ is None else environ
    codec: SessionCodec = state.sessions
    password = admin_password(state.config, env)
    sso_config = sso_settings(env)
    mappings = _role_mappings(state)
    if sso_config is None and env.get("GENERIC_CLIENT_ID"):
        jwt_flow = state.config.file.general_settings.enable_jwt_auth
        log.warning(
            "GENERIC_CLIENT_ID is set but PROXY_BASE_URL is not: "
            + (
                "the admin page uses its PKCE sign-in (redirect URI /ui)"
                if jwt_flow
                else "SSO sign-in is off; set PROXY_BASE_URL to this gateway's public URL"
            )
        )
    throttle = LoginThrottle()

    def signed_in(session: Session, request: Request, status: int = 200) -> Response:
        response = JSONResponse(_session_view(session), status_code=status)
        response.headers.append(
            "set-cookie", codec.set_cookie_header(session, secure=_secure(request))
        )
        response.headers["cache-control"] = "no-store"
        return response

    async def login(request: Request) -> Response:
        client = _client(request)
        wait = throttle.retry_after(client)
        if wait is not None:
            raise RateLimitError(
                f"Too many failed sign-ins; try again in {int(wait)} s.",
                headers={"retry-after": str(int(wait))},
            )
        if password is None:
            raise NotFoundError("Password sign-in is not configured (set UI_PASSWORD).")
        try:
            given = Credentials.model_validate(await read_json_object(request, MAX_BODY))
        except pydantic.ValidationError:
            raise BadRequestError('Pass {"username": ..., "password": ...}.') from None
        if not password.matches(given.username, given.password):
            throttle.failed(client)
            log.warning("admin page sign-in refused", client=client)
            raise AuthenticationError("Wrong username or password.", code="invalid_credentials")
        throttle.succeeded(client)
        session = codec.new(given.username, PROXY_ADMIN, "password")
        log.info("admin page sign-in", user_id=session.user_id, method="password", client=client)
        return signed_in(session, request)

    async def logout(request: Request) -> Response:
        session = codec.from_headers(request.headers)
        if session is not None:
            log.info("admin page sign-out", user_id=session.user_id)
        response = JSONResponse({"signed_in": False})
        response.headers.append(
            "set-cookie", SessionCodec.clear_cookie_header(secure=_secure(request))
        )
        return response

    async def current(request: Request) -> Response:
        session = codec.from_headers(request.headers)
        body: dict[str, object] = _session_view(session) if session else {"signed_in": False}
        body["sign_in"] = {
            "password": password is not None,
            "sso": START_PATH if sso_config is not None else None,
        }
        return JSONResponse(body, headers={"cache-control": "no-store"})

    async def sso_start(request: Request) -> Response:
        if sso_config is None:
            raise NotFoundError(
                "SSO sign-in is not configured (set GENERIC_CLIENT_ID, "
                "GENERIC_AUTHORIZATION_ENDPOINT, GENERIC_TOKEN_ENDPOINT and PROXY_BASE_URL)."
            )
        flow = sso.new_flow(sso_config)
        response = RedirectResponse(sso.authorization_url(sso_config, flow), status_code=303)
        # Lax, not Strict: the provider's redirect back is a cross-site navigation.
        response.set_cookie(
            sso.FLOW_COOKIE,
            codec.seal(flow, sso.FLOW_TTL_SECONDS),
            max_age=int(sso.FLOW_TTL_SECONDS),
            path=CALLBACK_PATH,
            httponly=True,
            samesite="lax",
            secure=sso_config.secure_cookies,
        )
        return response

    def back_to_page(error: str) -> Response:
        response = RedirectResponse("/ui?" + urlencode({"sso_error": error}), status_code=303)
        response.delete_cookie(sso.FLOW_COOKIE, path=CALLBACK_PATH)
        return response

    async def remember_user(found: sso.Identity) -> None:
        """The person becomes a user of the store (LiteLLM does the same on SSO sign-in)."""
        if state.accounts is None:
            return
        management = state.accounts.management
        try:
            await management.get("user", found.user_id)
        except NotFoundError:
            body = NewUser(user_id=found.user_id, user_email=found.email, user_role=found.role)
            await management.create(
                "user", found.user_id, column_values("user", body, creating=True)
            )

    async def sso_callback(request: Request) -> Response:
        if sso_config is None:
            raise NotFoundError("SSO sign-in is not configured.")
        q = request.query_params
        raw_flow = cookie_value(request.headers, sso.FLOW_COOKIE)
        flow = codec.unseal(raw_flow) if raw_flow else None
        if q.get("error"):
            return back_to_page(f"Sign-in failed: {q.get('error_description') or q['error']}")
        if flow is None or not q.get("code") or q.get("state") != flow.get("state"):
            log.warning("SSO callback without a matching sign-in", client=_client(request))
            return back_to_page("Sign-in failed: this browser did not start it, or it expired.")
        try:
            found = await sso.finish(state.http, sso_config, mappings, q["code"], flow["verifier"])
        except sso.SSOFailedError as exc:
            return back_to_page(f"Sign-in failed: {exc}")
        await remember_user(found)
        session = codec.new(found.user_id, found.role, "sso", email=found.email)
        log.info("admin page sign-in", user_id=found.user_id, role=found.role, method="sso")
        response = RedirectResponse("/ui", status_code=303)
        response.delete_cookie(sso.FLOW_COOKIE, path=CALLBACK_PATH)
        response.headers.append(
            "set-cookie", codec.set_cookie_header(session, secure=sso_config.secure_cookies)
        )
        return response

    return [
        Route("/ui/login", login, methods=["POST"]),
        Route("/ui/logout", logout, methods=["POST"]),
        Route("/ui/session", current, methods=["GET"]),
        Route(START_PATH, sso_start, methods=["GET"]),
        Route(CALLBACK_PATH, sso_callback, methods=["GET"]),
    ]
