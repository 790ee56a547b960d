"""`/openapi.json`: the hand-written description of the gateway's HTTP API (openapi.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http_io import JSONResponse

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return spec


def routes() -> list[Route]:
    spec = load_spec()

    async def openapi(_request: Request) -> Response:
        return JSONResponse(spec)

    return [Route("/openapi.json", openapi, methods=["GET"])]
