"""Reading request bodies and writing JSON/SSE responses, with the gateway's limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gateway.context import current_context
from gateway.errors import BadRequestError, GatewayError, RequestTooLargeError

log = structlog.get_logger("toolrelay.gateway")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestTooLargeError(f"Request body exceeds the {max_bytes} byte limit.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestTooLargeError(f"Request body exceeds the {max_bytes} byte limit.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise BadRequestError("Request body is empty; expected a JSON object.", code="invalid_json")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"Invalid JSON in request body: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise BadRequestError("Request body must be a JSON object.", code="invalid_json")
    return body


def require_model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequestError(
            "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
        )
    return model


def error_response(error: GatewayError) -> JSONResponse:
    ctx = current_context()
    if ctx is not None:
        ctx.error = f"{type(error).__name__}: {error.message}"
    return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers or None)


async def gateway_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return error_response(exc)


async def http_exception_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error_type = "invalid_request_error" if exc.status_code < 500 else "api_error"
    body = {
        "error": {
            "message": str(exc.detail),
            "type": error_type,
            "param": None,
            "code": str(exc.status_code),
        }
    }
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def unexpected_error_handler(_request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", error_type=type(exc).__name__)
    body = {
        "error": {
            "message": "Internal server error.",
            "type": "api_error",
            "param": None,
            "code": "internal_error",
        }
    }
    return JSONResponse(body, status_code=500)


def sse_event(payload: Mapping[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


async def sse_body(
    first: Mapping[str, Any], rest: AsyncIterator[dict[str, Any]]
) -> AsyncIterator[bytes]:
    """Relay chunks as SSE; an error after the first chunk ends the stream with an error event."""
    yield sse_event(first)
    try:
        async for chunk in rest:
            yield sse_event(chunk)
    except GatewayError as exc:
        ctx = current_context()
        if ctx is not None:
            ctx.error = f"{type(exc).__name__}: {exc.message}"
        yield sse_event(exc.body())
        return
    yield SSE_DONE
