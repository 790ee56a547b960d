"""Refusals from limits; each says which limit was hit and when it resets."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from gateway.errors import BudgetExceededError, RateLimitError

# LiteLLM 1.106.2's status for a budget refusal (`litellm_settings.budget_exceeded_status_code`)
BUDGET_EXCEEDED_STATUS = 422


class LimitExceededError(RateLimitError):
    """429 with LiteLLM's codes: `rate_limit_exceeded`, `parallel_request_limit_exceeded`."""


def _when(message: str, resets_at: datetime | None, now: datetime) -> tuple[str, dict[str, str]]:
    headers: dict[str, str] = {}
    if resets_at is not None:
        wait = max(1, math.ceil((resets_at - now).total_seconds()))
        headers["retry-after"] = str(wait)
        message = f"{message} Resets at {resets_at.astimezone(UTC).isoformat()} (in {wait}s)."
    return message, headers


def limit_error(
    message: str, *, code: str, resets_at: datetime | None, now: datetime
) -> LimitExceededError:
    message, headers = _when(message, resets_at, now)
    return LimitExceededError(message, code=code, headers=headers)


def budget_exceeded(
    label: str,
    spend: float,
    reserved: float,
    max_budget: float,
    resets_at: datetime | None,
    now: datetime,
    status: int = BUDGET_EXCEEDED_STATUS,
) -> BudgetExceededError:
    message, headers = _when(
        f"Budget has been exceeded for {label}: current spend {spend:.6f} "
        f"(+{reserved:.6f} in flight), max budget {max_budget}.",
        resets_at,
        now,
    )
    return BudgetExceededError(message, status=status, headers=headers)


def rpm_exceeded(label: str, limit: int, resets_at: datetime, now: datetime) -> LimitExceededError:
    return limit_error(
        f"Rate limit reached for {label}: rpm limit {limit}.",
        code="rate_limit_exceeded",
        resets_at=resets_at,
        now=now,
    )


def tpm_exceeded(
    label: str, limit: int, used: int, resets_at: datetime, now: datetime
) -> LimitExceededError:
    return limit_error(
        f"Rate limit reached for {label}: tpm limit {limit} "
        f"({used} tokens used or reserved this minute).",
        code="rate_limit_exceeded",
        resets_at=resets_at,
        now=now,
    )


def parallel_exceeded(label: str, limit: int, now: datetime) -> LimitExceededError:
    return limit_error(
        f"Max parallel request limit reached for {label}: {limit} in flight.",
        code="parallel_request_limit_exceeded",
        resets_at=None,
        now=now,
    )
