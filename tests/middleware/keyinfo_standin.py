"""A stand-in for the gateway's key API (`GET /key/info`, LiteLLM's shape) until the keys
feature lands; chat requests are forwarded to the real gateway with the master key."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.processes import free_port


def build_app(keys: dict[str, dict[str, Any]], gateway_url: str, master_key: str) -> Starlette:
    def key_of(request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    def refuse() -> Response:
        return JSONResponse(
            {"error": {"message": "Invalid API key", "type": "authentication_error"}},
            status_code=401,
        )

    async def key_info(request: Request) -> Response:
        key = key_of(request)
        if key == master_key:  # as the gateway's keys feature answers for the master key
            return JSONResponse(
                {"error": {"message": "Pass ?key=...", "type": "invalid_request_error"}},
                status_code=400,
            )
        if key not in keys:
            return refuse()
        return JSONResponse({"key": key, "info": {"metadata": keys[key], "models": []}})

    async def models(request: Request) -> Response:
        if key_of(request) in keys or key_of(request) == master_key:
            return JSONResponse({"object": "list", "data": []})
        return refuse()

    async def chat(request: Request) -> Response:
        if key_of(request) not in keys:
            return refuse()
        async with httpx.AsyncClient(timeout=60) as client:
            upstream = await client.post(
                f"{gateway_url}/v1/chat/completions",
                content=await request.body(),
                headers={
                    "Authorization": f"Bearer {master_key}",
                    "content-type": "application/json",
                },
            )
        return Response(upstream.content, upstream.status_code, media_type="application/json")

    async def live(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/key/info", key_info),
            Route("/v1/models", models),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/health/liveliness", live),
        ]
    )


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("key-info stand-in did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
