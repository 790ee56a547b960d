"""Which of LiteLLM's logging callbacks toolrelay honours, and one warning for the rest.

LiteLLM takes callback names in three `litellm_settings` keys: `success_callback`,
`failure_callback` and `callbacks` (a list, or one name). toolrelay implements:

- `otel`: OpenTelemetry traces over OTLP/HTTP (see `common.tracing`);
- `langfuse` (and LiteLLM's `langfuse_otel` preset): the same traces, sent to Langfuse's
  OTLP endpoint with the key pair as basic auth;
- `prometheus`: `/metrics`, which is always served.

Any other name (`datadog`, `s3`, a custom `module.instance` handler, ...) is named in one
start-up warning and otherwise ignored: a LiteLLM config still starts, but nobody is led to
believe it logs anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.tracing.settings import CALLBACK_KEYS, LANGFUSE_CALLBACKS, OTEL_CALLBACKS

if TYPE_CHECKING:  # the config report imports `HONOURED` from here: no import back at run time
    from gateway.config.schema import LiteLLMSettings

PROMETHEUS = frozenset({"prometheus"})
HONOURED = OTEL_CALLBACKS | LANGFUSE_CALLBACKS | PROMETHEUS


@dataclass(frozen=True, slots=True)
class RefusedCallback:
    setting: str  # which litellm_settings key named it
    name: str


@dataclass(frozen=True, slots=True)
class CallbackPlan:
    otel: bool = False
    langfuse: bool = False
    prometheus: bool = False
    refused: tuple[RefusedCallback, ...] = ()

    def warning(self) -> str | None:
        """The one start-up warning, or None when every named callback is implemented."""
        if not self.refused:
            return None
        named = ", ".join(f"{r.setting}: {r.name}" for r in self.refused)
        honoured = ", ".join(sorted(HONOURED))
        return (
            f"litellm_settings: callbacks not supported by toolrelay, ignored ({named}); "
            f"supported: {honoured}"
        )


def _names(settings: LiteLLMSettings, key: str) -> list[str]:
    value = getattr(settings, key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def plan_callbacks(settings: LiteLLMSettings) -> CallbackPlan:
    found: dict[str, str] = {}  # name -> first key that named it
    for key in CALLBACK_KEYS:
        for name in _names(settings, key):
            found.setdefault(name.strip(), key)
    names = set(found)
    refused = tuple(
        RefusedCallback(key, name) for name, key in found.items() if name not in HONOURED
    )
    return CallbackPlan(
        otel=bool(names & OTEL_CALLBACKS),
        langfuse=bool(names & LANGFUSE_CALLBACKS),
        prometheus=bool(names & PROMETHEUS),
        refused=refused,
    )
