"""`/docs` (Swagger UI) and `/redoc` over an app's `/openapi.json`, with every asset served
from this process: Swagger UI and Redoc come from the `openapi-ui-bundles` package, and the
two small start-up scripts from here, so the pages work on machines with no internet.

The gateway and the middleware both mount these routes.
"""

from __future__ import annotations

import html
from pathlib import Path

import openapi_ui_bundles
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from common.asgi_headers import WithHeaders

ASSETS = "/docs/assets"
OWN_STATIC = Path(__file__).parent / "static"
# Swagger UI and Redoc set inline styles (React, styled-components): styles may be inline,
# scripts may not, and nothing may be fetched from another origin.
DOCS_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src blob:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
DOCS_HEADERS = {
    "content-security-policy": DOCS_POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}

_SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API docs</title>
<link rel="stylesheet" href="{assets}/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/swagger-ui/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec_url}"></div>
<script src="{assets}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-ui/swagger-ui-standalone-preset.js"></script>
<script src="{assets}/toolrelay/swagger-start.js"></script>
</body>
</html>
"""

_REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API reference</title>
</head>
<body>
<div id="redoc" data-spec-url="{spec_url}"></div>
<script src="{assets}/redoc/redoc.standalone.js"></script>
<script src="{assets}/toolrelay/redoc-start.js"></script>
</body>
</html>
"""


class _Assets(StaticFiles):
    """Static files whose errors are JSON in the OpenAI shape, like every other error of both
    apps (the middleware has no handler that would turn a plain-text 404 into one)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except (OSError, ValueError):  # a name the file system refuses (NUL byte, ...)
            return self._error(404, path, None)
        except HTTPException as exc:
            return self._error(exc.status_code, path, str(exc.detail))

    @staticmethod
    def _error(status: int, path: str, detail: str | None) -> Response:
        error = {
            "message": f"No such file: {path[:200]!r}" if status == 404 or not detail else detail,
            "type": "invalid_request_error",
            "param": None,
            "code": "not_found" if status == 404 else None,
        }
        return JSONResponse({"error": error}, status_code=status)


def _static(directory: Path) -> WithHeaders:
    return WithHeaders(_Assets(directory=directory), DOCS_HEADERS)


def docs_routes(title: str, spec_url: str = "/openapi.json") -> list[BaseRoute]:
    values = {"title": html.escape(title), "spec_url": html.escape(spec_url), "assets": ASSETS}
    swagger_page = _SWAGGER_PAGE.format(**values)
    redoc_page = _REDOC_PAGE.format(**values)

    async def swagger(_request: Request) -> Response:
        return HTMLResponse(swagger_page, headers=DOCS_HEADERS)

    async def redoc(_request: Request) -> Response:
        return HTMLResponse(redoc_page, headers=DOCS_HEADERS)

    return [
        Route("/docs", swagger, methods=["GET"]),
        Route("/redoc", redoc, methods=["GET"]),
        Mount(
            ASSETS,
            routes=[
                Mount("/swagger-ui", app=_static(openapi_ui_bundles.swagger_ui.static_path)),
                Mount("/redoc", app=_static(openapi_ui_bundles.redoc.static_path)),
                Mount("/toolrelay", app=_static(OWN_STATIC)),
            ],
        ),
    ]
