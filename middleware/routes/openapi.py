"""`/openapi.json`: the hand-written description of the middleware's HTTP API (openapi.yaml),
plus `/docs` (Swagger UI) and `/redoc` over it, with assets served locally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from common.apidocs import docs_routes, expand_aliases

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return expand_aliases(spec)


async def openapi(_request: Request) -> Response:
    return JSONResponse(load_spec())


routes: list[BaseRoute] = [
    Route("/openapi.json", openapi, methods=["GET"]),
    *docs_routes("toolrelay middleware"),
]
