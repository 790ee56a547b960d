"""`/openapi.json`: the hand-written description of the middleware's HTTP API (openapi.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return spec


async def openapi(_request: Request) -> Response:
    return JSONResponse(load_spec())


routes = [Route("/openapi.json", openapi, methods=["GET"])]
