"""Map upstream HTTP statuses and transport failures to the gateway's error hierarchy.

This is the one boundary where provider failures become `gateway.errors` classes; provider
modules may pass a `classify` hook to recognise their own error codes.

AWS services (Bedrock) name the error in a header, `x-amzn-ErrorType: ThrottlingException:...`,
and send only `{"message": ...}`; the name is added to the error object as `__type` (where
AWS's JSON protocols put it in the body), so `classify` reads it from the one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import orjson

from gateway import errors

# A provider's hook: (status, parsed error object) -> a more specific class, or None.
Classifier = Callable[[int, Mapping[str, Any]], type[errors.GatewayError] | None]

_OPENAI_CODES: dict[str, type[errors.GatewayError]] = {
    "context_length_exceeded": errors.ContextWindowExceededError,
    "string_above_max_length": errors.ContextWindowExceededError,
    "content_policy_violation": errors.ContentPolicyViolationError,
    "content_filter": errors.ContentPolicyViolationError,
    "model_not_found": errors.NotFoundError,
}

_BY_STATUS: dict[int, type[errors.GatewayError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    408: errors.RequestTimeoutError,
    409: errors.BadRequestError,
    413: errors.RequestTooLargeError,
    422: errors.BadRequestError,
    429: errors.RateLimitError,
    500: errors.UpstreamServerError,
    502: errors.ServiceUnavailableError,
    503: errors.ServiceUnavailableError,
    504: errors.RequestTimeoutError,
    529: errors.ServiceUnavailableError,
}


def parse_error_object(body: bytes) -> dict[str, Any]:
    """The `error` object of an upstream error body, or `{"message": <text>}`."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", errors="replace").strip()
        return {"message": text[:500] or "(empty body)"}
    if isinstance(parsed, dict):
        inner = parsed.get("error")
        if isinstance(inner, dict):
            return inner
        if isinstance(inner, str):
            return {"message": inner}
        if isinstance(parsed.get("message"), str):
            return parsed
        if isinstance(parsed.get("Message"), str):  # some AWS services capitalise it
            return {**parsed, "message": parsed["Message"]}
    return {"message": str(parsed)[:500]}


AWS_ERROR_TYPE = "x-amzn-errortype"


def _with_aws_error_type(detail: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
    named = headers.get(AWS_ERROR_TYPE)
    if not named or "__type" in detail:
        return detail
    return {**detail, "__type": named}


def error_from_status(
    provider: str,
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    classify: Classifier | None = None,
) -> errors.GatewayError:
    detail = _with_aws_error_type(parse_error_object(body), headers)
    cls = classify(status, detail) if classify else None
    code = detail.get("code")
    if cls is None and isinstance(code, str):
        cls = _OPENAI_CODES.get(code)
    if cls is None:
        cls = _BY_STATUS.get(status) or (
            errors.UpstreamServerError if status >= 500 else errors.BadRequestError
        )
    message = str(detail.get("message") or f"upstream returned HTTP {status}")
    passed_headers: dict[str, str] = {}
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        passed_headers["retry-after"] = retry_after
    param = detail.get("param")
    return cls(
        f"{provider} error: {message}",
        code=code if isinstance(code, str) else None,
        param=param if isinstance(param, str) else None,
        headers=passed_headers,
        provider=provider,
    )


def error_from_transport(provider: str, exc: httpx.HTTPError) -> errors.GatewayError:
    if isinstance(exc, httpx.TimeoutException):
        return errors.RequestTimeoutError(
            f"{provider} error: upstream timed out ({type(exc).__name__})", provider=provider
        )
    if isinstance(exc, httpx.ConnectError):
        return errors.ServiceUnavailableError(
            f"{provider} error: cannot connect to upstream", provider=provider
        )
    return errors.ServiceUnavailableError(
        f"{provider} error: upstream connection failed ({type(exc).__name__})", provider=provider
    )


def malformed_response(provider: str, what: str) -> errors.BadGatewayError:
    return errors.BadGatewayError(
        f"{provider} error: malformed upstream response: {what}", provider=provider
    )


# What translating a body of the wrong shape raises (a number where a list was documented, a
# list where an object was): the upstream broke its contract, so it is a 502 naming the
# provider, never a 500 that blames the gateway.
_SHAPE_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError, OverflowError)


@contextmanager
def upstream_shape(provider: str) -> Iterator[None]:
    """Around translating an upstream response or stream event into the OpenAI shape."""
    try:
        yield
    except _SHAPE_ERRORS as exc:
        raise malformed_response(
            provider, f"unexpected shape ({type(exc).__name__}: {exc})"
        ) from exc
