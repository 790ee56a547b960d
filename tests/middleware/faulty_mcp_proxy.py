"""A reverse proxy in front of a real MCP server that answers calls of the test server's
`garbage` tool with garbage, by its `kind` argument, and forwards everything else untouched.

    hang            never answers
    html_502        an HTML "502 Bad Gateway" page, as a broken load balancer sends
    invalid_jsonrpc a 200 JSON body that is not JSON-RPC
    truncated_sse   a 200 SSE stream that ends in the middle of its only event
    bad_arguments   a JSON-RPC error the server chose (-32602 invalid params)

Real HTTP end to end: the middleware's MCP client cannot tell it from a server.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "host"}
FAULTS = ("hang", "html_502", "invalid_jsonrpc", "truncated_sse", "bad_arguments")
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def _fault(kind: str, request_id: Any) -> Response | None:
    if kind == "hang":

        async def never() -> AsyncIterator[bytes]:
            await anyio.sleep_forever()
            yield b""

        return StreamingResponse(never(), media_type="text/event-stream")
    if kind == "html_502":
        return Response(HTML_502, status_code=502, media_type="text/html")
    if kind == "invalid_jsonrpc":
        return Response(b'{"hello": "not json-rpc"}', media_type="application/json")
    if kind == "truncated_sse":

        async def cut() -> AsyncIterator[bytes]:
            yield b'event: message\ndata: {"jsonrpc": "2.0", "id": '

        return StreamingResponse(cut(), media_type="text/event-stream")
    if kind == "bad_arguments":
        error = {"code": -32602, "message": "Invalid params: 'text' is required"}
        body = {"jsonrpc": "2.0", "id": request_id, "error": error}
        return Response(orjson.dumps(body), media_type="application/json")
    return None


def build_proxy(upstream: str) -> Starlette:
    client = httpx.AsyncClient(base_url=upstream, timeout=60)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with client:
            yield

    async def forward(request: Request) -> Response:
        body = await request.body()
        if request.method == "POST":
            try:
                message = orjson.loads(body)
            except orjson.JSONDecodeError:
                message = None
            if isinstance(message, dict) and message.get("method") == "tools/call":
                params = message.get("params") or {}
                kind = str((params.get("arguments") or {}).get("kind"))
                faulty = (
                    _fault(kind, message.get("id")) if params.get("name") == "garbage" else None
                )
                if faulty is not None:
                    return faulty
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        upstream_request = client.build_request(
            request.method,
            request.url.path,
            params=request.query_params,
            headers=headers,
            content=body,
        )
        response = await client.send(upstream_request, stream=True)
        kept = {k: v for k, v in response.headers.items() if k.lower() not in HOP_HEADERS}
        return StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            headers=kept,
            background=BackgroundTask(response.aclose),
        )

    return Starlette(
        routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"])],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvicorn.run(build_proxy(args.upstream), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
