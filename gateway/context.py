"""Per-request facts gathered along the way, read by the access log and response headers."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_current: ContextVar[RequestContext | None] = ContextVar("toolrelay_request_context", default=None)


@dataclass(frozen=True, slots=True)
class FallbackOutcome:
    requested_group: str
    fallback_group: str
    status_code: int  # of the failure that made the router fall back
    error_class: str
    succeeded: bool


@dataclass(slots=True)
class RequestContext:
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    upstream_seconds: float = 0.0
    model_group: str | None = None
    deployment_id: str | None = None
    provider: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    stream: bool = False
    key_alias: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    # Fallbacks the router tried for this request (read by the metrics hook).
    fallbacks: list[FallbackOutcome] = field(default_factory=list)

    def record_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            prompt = usage.get("prompt_tokens")
            completion = usage.get("completion_tokens")
            if isinstance(prompt, int):
                self.prompt_tokens = prompt
            if isinstance(completion, int):
                self.completion_tokens = completion

    def overhead_ms(self) -> float:
        return max(0.0, (time.perf_counter() - self.started - self.upstream_seconds) * 1000)


def current_context() -> RequestContext | None:
    return _current.get()


def bind_context(ctx: RequestContext) -> object:
    return _current.set(ctx)


def unbind_context(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
