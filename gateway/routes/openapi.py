"""`/openapi.json`: the hand-written description of the gateway's HTTP API (openapi.yaml),
plus `/docs` and `/redoc` over it.

Second paths of a route (LiteLLM's unprefixed `/chat/completions`, ...) are listed once in
the file's `x-path-aliases` and expanded here (see `common.apidocs.aliases`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from common.apidocs import docs_routes, expand_aliases
from gateway.http_io import JSONResponse

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return expand_aliases(spec)


def routes() -> list[BaseRoute]:
    spec = load_spec()

    async def openapi(_request: Request) -> Response:
        return JSONResponse(spec)

    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        *docs_routes(str(spec["info"].get("title", "toolrelay gateway"))),
    ]
