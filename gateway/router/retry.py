"""What a failure means for the router, decided from the error class alone.

retryable         RateLimitError, RequestTimeoutError, UpstreamServerError (5xx, connect)
cools at once     RateLimitError, AuthenticationError, PermissionDeniedError, NotFoundError
counted           every retryable error (cools after `allowed_fails` in a minute)
deployment-blind  BadRequestError and its family, RequestTooLargeError: the request is at
                  fault, so neither retries nor cooldowns apply (context-window and
                  content-policy errors go to their own fallbacks instead)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gateway.errors import (
    AuthenticationError,
    GatewayError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    UpstreamServerError,
)

RETRYABLE: tuple[type[GatewayError], ...] = (
    RateLimitError,
    RequestTimeoutError,
    UpstreamServerError,
)
IMMEDIATE_COOLDOWN: tuple[type[GatewayError], ...] = (
    RateLimitError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
)

DEFAULT_NUM_RETRIES = 2  # LiteLLM's DEFAULT_MAX_RETRIES
INITIAL_DELAY = 0.5
MAX_DELAY = 8.0  # LiteLLM caps its retry sleep at 8 s as well


def is_retryable(error: GatewayError) -> bool:
    return isinstance(error, RETRYABLE)


def cools_immediately(error: GatewayError) -> bool:
    return isinstance(error, IMMEDIATE_COOLDOWN)


def counts_against_deployment(error: GatewayError) -> bool:
    return isinstance(error, RETRYABLE + IMMEDIATE_COOLDOWN)


def retry_after_seconds(error: GatewayError) -> float | None:
    value = error.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date: rare from LLM APIs; the exponential delay applies
    return seconds if seconds >= 0 else None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Sleep before retrying a rate-limited group: exponential with jitter, at least the
    upstream's `retry-after`, never more than `max_delay`."""

    initial: float = INITIAL_DELAY
    max_delay: float = MAX_DELAY

    def delay(self, retry_number: int, error: GatewayError, rng: random.Random) -> float:
        exponential = self.initial * 2.0 ** max(0, retry_number - 1)
        jittered = exponential * (0.75 + 0.5 * rng.random())
        floor = retry_after_seconds(error) or 0.0
        return min(self.max_delay, max(floor, jittered))
