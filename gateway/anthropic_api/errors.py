"""Gateway errors in Anthropic's error shape: `{"type": "error", "error": {"type", "message"}}`."""

from __future__ import annotations

from gateway.errors import GatewayError
from gateway.providers.base import JSON

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    422: "invalid_request_error",  # a budget refusal (LiteLLM's status): not worth a retry
    429: "rate_limit_error",
    503: "overloaded_error",
}


def error_type(status: int) -> str:
    return _TYPES.get(status, "api_error")


def anthropic_error(error: GatewayError) -> JSON:
    return {
        "type": "error",
        "error": {"type": error_type(error.status_code), "message": error.message},
    }
