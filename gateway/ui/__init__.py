"""The admin page at `/ui`: static files with no build step, plus a same-origin proxy to the
middleware (MCP tools and the playground) so the browser needs no CORS and one key."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway import oidc, signin
from gateway.errors import NotFoundError, PermissionDeniedError, ServiceUnavailableError
from gateway.state import GatewayState
from gateway.ui.headers import ADMIN_PAGE_HEADERS, WithHeaders

STATIC = Path(__file__).parent / "static"
# Only what the page needs: the proxy is not a general way into the middleware.
PROXIED = {
    ("GET", "mcp/tools/list"),
    ("POST", "mcp/tools/call"),
    ("GET", "v1/models"),
    ("POST", "v1/chat/completions"),
}
_FORWARDED_HEADERS = ("authorization", "content-type", "x-request-id", "accept")


def routes(state: GatewayState) -> list[BaseRoute]:
    middleware_url = state.config.file.ui_settings.middleware_url.rstrip("/")

    async def index(_request: Request) -> Response:
        return FileResponse(
            STATIC / "index.html", headers={"cache-control": "no-cache", **ADMIN_PAGE_HEADERS}
        )

    async def to_index(_request: Request) -> Response:
        return RedirectResponse("/ui")

    async def proxy(request: Request) -> Response:
        # The admin page signs in with the master key; nobody else gets a way in here.
        if not (await state.authenticator.authenticate(request.headers)).is_admin:
            raise PermissionDeniedError("Only the master key (admin) may use the admin proxy.")
        path = request.path_params["path"]
        if (request.method, path) not in PROXIED:
            raise NotFoundError(f"/ui/middleware/{path} is not available through the admin page.")
        headers = {
            name: request.headers[name] for name in _FORWARDED_HEADERS if name in request.headers
        }
        master_key = state.config.master_key
        if (
            "authorization" not in headers
            and master_key
            and state.sessions.from_headers(request.headers)
        ):
            # An admin signed in with a session cookie: the middleware knows keys, not cookies.
            headers["authorization"] = f"Bearer {master_key}"
        upstream = state.http.build_request(
            request.method,
            f"{middleware_url}/{path}",
            params=request.query_params,
            content=await request.body(),
            headers=headers,
            timeout=httpx.Timeout(600.0, connect=5.0),
        )
        try:
            response = await state.http.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(
                f"The middleware is not reachable at {middleware_url} ({type(exc).__name__}); "
                "set ui_settings.middleware_url."
            ) from exc
        return StreamingResponse(
            response.aiter_bytes(),
            status_code=response.status_code,
            media_type=response.headers.get("content-type"),
            background=BackgroundTask(response.aclose),
        )

    return [
        Route("/ui", index, methods=["GET"]),
        Route("/ui/", to_index, methods=["GET"]),
        Mount(
            "/ui/static",
            app=WithHeaders(StaticFiles(directory=STATIC), ADMIN_PAGE_HEADERS),
            name="ui-static",
        ),
        Route("/ui/middleware/{path:path}", proxy, methods=["GET", "POST"]),
        *oidc.routes(state),
        *signin.routes(state),
    ]
