"""The gateway's error hierarchy, and the one place it becomes an HTTP response.

    GatewayError                         500 api_error (base; never raised bare by providers)
    ├── BadRequestError                  400 invalid_request_error
    │   ├── UnknownModelError            400 (code model_not_found)
    │   ├── ContextWindowExceededError   400 (code context_length_exceeded)
    │   └── ContentPolicyViolationError  400 (code content_policy_violation)
    ├── AuthenticationError              401 authentication_error
    ├── PermissionDeniedError            403 permission_error
    ├── NotFoundError                    404 invalid_request_error
    ├── RequestTimeoutError              408 timeout (an upstream took too long; LiteLLM's status)
    ├── RequestTooLargeError             413 invalid_request_error
    ├── BudgetExceededError              422 budget_exceeded (LiteLLM's default status; set
    │                                    litellm_settings.budget_exceeded_status_code)
    ├── RateLimitError                   429 rate_limit_error (keeps the upstream retry-after)
    ├── UpstreamServerError              500 api_error
    │   ├── BadGatewayError              502 api_error (upstream answered something unusable)
    │   │   └── UpstreamTlsError         502 (code upstream_tls_error: its certificate failed
    │   │                                verification, or the TLS handshake did)
    │   └── ServiceUnavailableError      503 api_error (overloaded, unreachable)

Provider modules raise these (mapped from upstream statuses and transport errors in
`gateway.providers.errors`); route handlers raise them for bad input; `error_response`
turns any of them into OpenAI's `{"error": {...}}` body. Which classes are retryable or
trigger fallbacks is decided from the class, never from the message text.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson


class GatewayError(Exception):
    status_code: int = 500  # per class; a BudgetExceededError takes the configured one
    error_type: ClassVar[str] = "api_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.param = param
        self.headers = headers or {}
        self.provider = provider

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class BadRequestError(GatewayError):
    status_code = 400
    error_type = "invalid_request_error"


class UnknownModelError(BadRequestError):
    default_code = "model_not_found"


class ContextWindowExceededError(BadRequestError):
    default_code = "context_length_exceeded"


class ContentPolicyViolationError(BadRequestError):
    default_code = "content_policy_violation"


class AuthenticationError(GatewayError):
    status_code = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(GatewayError):
    status_code = 403
    error_type = "permission_error"


class NotFoundError(GatewayError):
    status_code = 404
    error_type = "invalid_request_error"


class RequestTimeoutError(GatewayError):
    status_code = 408
    error_type = "timeout"
    default_code = "timeout"


class RequestTooLargeError(GatewayError):
    status_code = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class BudgetExceededError(GatewayError):
    """A budget ran out: retrying will not help until it resets or is raised, so not a 429
    (which SDKs retry) unless `litellm_settings.budget_exceeded_status_code` says so."""

    status_code = 422
    error_type = "budget_exceeded"
    default_code = "budget_exceeded"

    def __init__(self, message: str, *, status: int, headers: dict[str, str] | None = None):
        super().__init__(message, headers=headers)
        self.status_code = status


class RateLimitError(GatewayError):
    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class UpstreamServerError(GatewayError):
    status_code = 500
    error_type = "api_error"


class BadGatewayError(UpstreamServerError):
    status_code = 502
    default_code = "bad_upstream_response"


class UpstreamTlsError(BadGatewayError):
    """Raised by the upstream transport itself (`gateway.upstream_http`), so the message
    keeps what failed (an unknown CA, a wrong host name) instead of "cannot connect"."""

    default_code = "upstream_tls_error"


class ServiceUnavailableError(UpstreamServerError):
    status_code = 503
    default_code = "service_unavailable"


def error_body_bytes(error: GatewayError) -> bytes:
    return orjson.dumps(error.body())
