"""The response status, noted in the request's ASGI scope by the one middleware that
already wraps `send`, for the middlewares around it to read once the app has returned.

Each wrapper around `send` is a Python call for every message of the response: a streamed
answer is one message per chunk. The gateway's request-context middleware and the
middleware's request-id middleware look at the response's start anyway (to add their
headers); noting the status there lets the SERVER span (`common.tracing.asgi`) skip a
wrapper of its own."""

from __future__ import annotations

from starlette.types import Scope

RESPONSE_STATUS = "toolrelay.response_status"


def note_response_status(scope: Scope, status: int) -> None:
    scope[RESPONSE_STATUS] = status


def noted_response_status(scope: Scope) -> int | None:
    """The status noted for this request; None when its response never started."""
    return scope.get(RESPONSE_STATUS)
