"""`/openapi.json`: the hand-written description of the gateway's HTTP API (openapi.yaml),
plus `/docs` and `/redoc` over it.

Second paths of a route (LiteLLM's unprefixed `/chat/completions`, ...) are listed once in
the file's `x-path-aliases` and expanded here (see `common.apidocs.aliases`).

The file is parsed at the first request for it, not at start: parsing 50 kB of YAML leaves
about 3 MB of resident memory behind (freed objects the allocator keeps), for a document most
gateways never serve.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from common.apidocs import docs_routes, expand_aliases
from gateway.http_io import JSONResponse

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
TITLE = "toolrelay gateway"  # info.title of the spec (a test keeps them equal), for /docs


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return expand_aliases(spec)


def routes() -> list[BaseRoute]:
    spec = functools.cache(load_spec)  # this app's copy, parsed once

    async def openapi(_request: Request) -> Response:
        return JSONResponse(spec())

    return [Route("/openapi.json", openapi, methods=["GET"]), *docs_routes(TITLE)]
