"""The middleware's error hierarchy, and the one place it becomes an HTTP response.

    MiddlewareError               500 api_error (base)
    ├── BadRequestError           400 invalid_request_error
    ├── AuthenticationError       401 authentication_error
    ├── PermissionDeniedError     403 permission_error
    ├── NotFoundError             404 invalid_request_error
    └── GatewayHTTPError          the gateway's own status and OpenAI error body, passed back
        └── GatewayUnreachable    502 api_error (no answer from the gateway)

Tool failures are not errors here: they become tool messages for the model (see `loop`).
"""

from __future__ import annotations

from typing import ClassVar

import orjson


class MiddlewareError(Exception):
    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param

    @property
    def status(self) -> int:
        return self.status_code

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class BadRequestError(MiddlewareError):
    status_code = 400
    error_type = "invalid_request_error"


class AuthenticationError(MiddlewareError):
    status_code = 401
    error_type = "authentication_error"


class PermissionDeniedError(MiddlewareError):
    status_code = 403
    error_type = "permission_error"


class NotFoundError(MiddlewareError):
    status_code = 404
    error_type = "invalid_request_error"


class GatewayHTTPError(MiddlewareError):
    """The gateway answered with an error: keep its status and body for the client."""

    def __init__(self, status: int, body: dict[str, object]) -> None:
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        super().__init__(str(message or f"gateway answered {status}"))
        self._status = status
        self._body = body

    @property
    def status(self) -> int:
        return self._status

    def body(self) -> dict[str, object]:
        return self._body


class GatewayUnreachable(GatewayHTTPError):
    def __init__(self, detail: str) -> None:
        body: dict[str, object] = {
            "error": {
                "message": f"gateway unreachable: {detail}",
                "type": "api_error",
                "param": None,
                "code": "gateway_unreachable",
            }
        }
        super().__init__(502, body)


def error_bytes(exc: MiddlewareError) -> bytes:
    return orjson.dumps(exc.body())
