"""LiteLLM's key-generation policy from `litellm_settings`:

- `default_key_generate_params`: fields a /key/generate request leaves out (or sends empty, for
  `models` and `metadata`) take these values;
- `upperbound_key_generate_params`: /key/generate, /key/update and /key/regenerate refuse a
  `max_budget`, `max_parallel_requests`, `tpm_limit`, `rpm_limit`, `budget_duration` or
  `duration` above the bound with a 400 naming it; a generated key without one gets the bound.

Both apply to every caller, the master key included, as in LiteLLM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from gateway.config.schema import KeyGenerateDefaults, KeyUpperbound, LiteLLMSettings
from gateway.errors import BadRequestError
from gateway.limits.durations import DurationError, parse_duration

_DEFAULTED = (
    "max_budget",
    "user_id",
    "team_id",
    "max_parallel_requests",
    "tpm_limit",
    "rpm_limit",
    "budget_duration",
    "duration",
)
_NUMERIC_BOUNDS = ("max_budget", "max_parallel_requests", "tpm_limit", "rpm_limit")
_DURATION_BOUNDS = ("budget_duration", "duration")
NEVER_EXPIRES = "-1"  # LiteLLM's duration for a key that never expires

Body = TypeVar("Body", bound=BaseModel)


@dataclass(frozen=True)
class KeyParamPolicy:
    defaults: KeyGenerateDefaults | None = None
    upperbound: KeyUpperbound | None = None

    @classmethod
    def of(cls, settings: LiteLLMSettings) -> KeyParamPolicy:
        return cls(settings.default_key_generate_params, settings.upperbound_key_generate_params)

    def for_new_key(self, body: Body) -> Body:
        """The request with the defaults and the bounds' fills applied, then checked."""
        filled: dict[str, Any] = {}
        if self.defaults is not None:
            for name in _DEFAULTED:
                default = getattr(self.defaults, name)
                if getattr(body, name, None) is None and default is not None:
                    filled[name] = default
            for name in ("models", "metadata"):
                default = getattr(self.defaults, name)
                if not getattr(body, name, None) and default:
                    filled[name] = default
        if self.upperbound is not None:
            for name in (*_NUMERIC_BOUNDS, *_DURATION_BOUNDS):
                bound = getattr(self.upperbound, name)
                if bound is not None and filled.get(name, getattr(body, name, None)) is None:
                    filled[name] = bound
        # model_copy counts the filled fields as sent, so the store writes them
        updated = body.model_copy(update=filled) if filled else body
        self.check(updated)
        return updated

    def check(self, body: BaseModel) -> None:
        """A 400 naming the first field above its bound."""
        if self.upperbound is None:
            return
        for name in _NUMERIC_BOUNDS:
            value, bound = getattr(body, name, None), getattr(self.upperbound, name)
            if value is not None and bound is not None and value > bound:
                raise _over(name, value, bound)
        for name in _DURATION_BOUNDS:
            value, bound = getattr(body, name, None), getattr(self.upperbound, name)
            if value is None or bound is None:
                continue
            if value == NEVER_EXPIRES or _seconds(value, name) > _seconds(bound, name):
                raise _over(name, value, bound)


def _seconds(text: str, name: str) -> float:
    try:
        return parse_duration(text).total_seconds()
    except DurationError as exc:
        raise BadRequestError(str(exc), param=name) from None


def _over(name: str, value: object, bound: object) -> BadRequestError:
    return BadRequestError(
        f"{name} is over the limit set in config (litellm_settings."
        f"upperbound_key_generate_params): asked {value}, at most {bound}",
        param=name,
        code="over_upperbound",
    )
