"""The upstream errors the fake can produce, as format-neutral `ReplyError`s.

Statuses and (type, code) pairs follow what OpenAI's API returns, so a gateway can be tested
against the errors it will meet in production:

    400 invalid_request_error          401 invalid_request_error / invalid_api_key
    403 permission_error               404 invalid_request_error / model_not_found
    429 requests / rate_limit_exceeded (with `retry-after: 1`)
    500 server_error                   503 server_error / overloaded
"""

from __future__ import annotations

from .reply import ReplyError

_BY_STATUS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "The fake upstream rejected this request (error-400)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided (error-401)."),
    403: ("permission_error", None, "You are not allowed to use this model (error-403)."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist (error-404)."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests (error-429)."),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request (error-500).",
    ),
    503: ("server_error", "overloaded", "The engine is currently overloaded (error-503)."),
}

_RETRY_AFTER = ((b"retry-after", b"1"),)


def for_status(status: int, message: str | None = None) -> ReplyError:
    """The error a real upstream sends with `status`; unknown statuses get a generic shape."""
    kind, code, default_message = _BY_STATUS.get(
        status, ("api_error", None, f"The fake upstream failed with status {status}.")
    )
    headers = _RETRY_AFTER if status == 429 else ()
    return ReplyError(status, message or default_message, kind, code, None, headers)


def context_window() -> ReplyError:
    return ReplyError(
        400,
        "This model's maximum context length is 8192 tokens. However, your messages resulted "
        "in 9000 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
    )


def content_policy() -> ReplyError:
    return ReplyError(
        400,
        "Your request was rejected as a result of our safety system.",
        "invalid_request_error",
        "content_policy_violation",
    )


def missing_parameter(name: str) -> ReplyError:
    return ReplyError(
        400,
        f"Missing required parameter: '{name}'.",
        "invalid_request_error",
        "missing_required_parameter",
        name,
    )


def invalid_parameter(name: str, message: str) -> ReplyError:
    return ReplyError(400, message, "invalid_request_error", "invalid_value", name)


def invalid_json() -> ReplyError:
    return ReplyError(
        400,
        "We could not parse the JSON body of your request. The body must be a JSON object.",
        "invalid_request_error",
    )


def invalid_api_key() -> ReplyError:
    return ReplyError(
        401,
        "Incorrect API key provided. The fake upstream was started with --require-key.",
        "invalid_request_error",
        "invalid_api_key",
    )


def unknown_route(method: str, path: str) -> ReplyError:
    return ReplyError(404, f"Invalid URL ({method} {path})", "invalid_request_error")


def method_not_allowed(method: str, path: str) -> ReplyError:
    return ReplyError(405, f"Method {method} not allowed on {path}", "invalid_request_error")
