"""LiteLLM's `retry_policy`: how many times to retry, by the class of the first failure.

`router_settings.retry_policy` names a count per error class; `model_group_retry_policy`
gives a group its own policy, which replaces the general one for that group (LiteLLM does
not merge them). As in LiteLLM 1.106.2 (`router_utils/get_retry_from_policy.py` and
`Router.async_function_with_retries`):

- the count comes from the group's first failure: the most specific class with a count set
  wins, then `DefaultRetries`; a policy with nothing for that class leaves the ordinary
  retry rules in charge;
- a count from the policy overrides those rules: the error is retried that many times even
  when it is not normally retried (a 400, a 401 on a single deployment), and 0 means no
  retry at all;
- a request's own `num_retries: 0` turns the policy off for that request.

The classes are toolrelay's typed provider errors, mapped to LiteLLM's exception classes.
LiteLLM's 502 (`BadGatewayError`) and 503 (`ServiceUnavailableError`) are not
`InternalServerError`s, so `InternalServerErrorRetries` counts only for a plain 5xx.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from gateway.errors import (
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    ContentPolicyViolationError,
    GatewayError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UpstreamServerError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries per error class; None leaves that class to the next rule."""

    BadRequestErrorRetries: int | None = None
    AuthenticationErrorRetries: int | None = None
    TimeoutErrorRetries: int | None = None
    RateLimitErrorRetries: int | None = None
    ContentPolicyViolationErrorRetries: int | None = None
    InternalServerErrorRetries: int | None = None
    ServiceUnavailableErrorRetries: int | None = None
    NotFoundErrorRetries: int | None = None
    DefaultRetries: int | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> RetryPolicy:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known and isinstance(v, int)})

    def retries_for(self, error: GatewayError) -> int | None:
        for name in _policy_fields(error):
            count: int | None = getattr(self, name)
            if count is not None:
                return count
        return self.DefaultRetries


# The most specific class in an error's MRO decides which fields count, in order.
_FIELDS: dict[type[GatewayError], tuple[str, ...]] = {
    ContentPolicyViolationError: ("ContentPolicyViolationErrorRetries", "BadRequestErrorRetries"),
    BadRequestError: ("BadRequestErrorRetries",),
    AuthenticationError: ("AuthenticationErrorRetries",),
    NotFoundError: ("NotFoundErrorRetries",),
    RequestTimeoutError: ("TimeoutErrorRetries",),
    RateLimitError: ("RateLimitErrorRetries",),
    ServiceUnavailableError: ("ServiceUnavailableErrorRetries",),
    BadGatewayError: (),
    UpstreamServerError: ("InternalServerErrorRetries",),
}


def _policy_fields(error: GatewayError) -> tuple[str, ...]:
    for cls in type(error).__mro__:
        found = _FIELDS.get(cls)
        if found is not None:
            return found
    return ()


@dataclass(frozen=True, slots=True)
class RetryPolicies:
    """The general policy and the per-group ones."""

    general: RetryPolicy | None = None
    by_group: Mapping[str, RetryPolicy] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.general is not None or bool(self.by_group)

    def retries_for(self, group: str, error: GatewayError) -> int | None:
        """The retries the policy grants after `error` in `group`, or None (no say)."""
        policy = self.by_group.get(group, self.general)
        return policy.retries_for(error) if policy is not None else None
