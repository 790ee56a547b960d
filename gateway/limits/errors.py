"""Refusals from limits; each says which limit was hit and when it resets."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from gateway.errors import RateLimitError


class LimitExceededError(RateLimitError):
    """429 with LiteLLM's codes: `budget_exceeded`, `rate_limit_exceeded`, `parallel_request_limit_exceeded`."""


def limit_error(
    message: str, *, code: str, resets_at: datetime | None, now: datetime
) -> LimitExceededError:
    headers: dict[str, str] = {}
    if resets_at is not None:
        wait = max(1, math.ceil((resets_at - now).total_seconds()))
        headers["retry-after"] = str(wait)
        message = f"{message} Resets at {resets_at.astimezone(UTC).isoformat()} (in {wait}s)."
    return LimitExceededError(message, code=code, headers=headers)
