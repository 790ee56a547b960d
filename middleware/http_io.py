"""Small wire helpers: orjson responses, reading a JSON object body, the bearer key."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from middleware.errors import BadRequestError, MiddlewareError

MAX_BODY_BYTES = 32 * 1024 * 1024


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)


def error_response(exc: MiddlewareError) -> Response:
    return JSONResponse(exc.body(), status_code=exc.status)


def http_error_response(exc: HTTPException) -> Response:
    """Starlette's own errors (no such route, method not allowed) in the same OpenAI shape
    as every other error here, not its plain-text "Not Found"."""
    body = {
        "error": {
            "message": str(exc.detail),
            "type": "invalid_request_error" if exc.status_code < 500 else "api_error",
            "param": None,
            "code": str(exc.status_code),
        }
    }
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def read_json_object(request: Request) -> dict[str, object]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequestError("Request body too large.", code="request_too_large")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequestError("Request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequestError("Request body must be a JSON object.")
    return body


def bearer_key(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    for name in ("x-litellm-api-key", "api-key", "x-api-key"):
        raw = headers.get(name)
        if raw and raw.strip():
            value = raw.strip()
            return value[7:].strip() if value.lower().startswith("bearer ") else value
    return None
