"""Per-request facts gathered along the way, read by the access log and response headers."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.hooks import CallRecord

_current: ContextVar[RequestContext | None] = ContextVar("toolrelay_request_context", default=None)


@dataclass(frozen=True, slots=True)
class FallbackOutcome:
    requested_group: str
    fallback_group: str
    status_code: int  # of the failure that made the router fall back
    error_class: str
    succeeded: bool


@dataclass(frozen=True, slots=True)
class ProviderRemaining:
    requests: int | None
    tokens: int | None


@dataclass(slots=True)
class RequestContext:
    """The HTTP request's facts. An inference call's facts (model, deployment, tokens,
    upstream time) live once, in its `CallRecord`, which the context points to."""

    request_id: str
    started: float = field(default_factory=time.perf_counter)
    # the ASGI scope's headers, as received (forward_client_headers_to_llm_api reads them)
    client_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    response_headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    call: CallRecord | None = None
    # Fallbacks the router tried for this request (read by the metrics hook).
    fallbacks: list[FallbackOutcome] = field(default_factory=list)
    # The provider's x-ratelimit-remaining-{requests,tokens} on its last answer, if it sent any.
    provider_remaining: ProviderRemaining | None = None

    @property
    def upstream_seconds(self) -> float:
        return self.call.upstream_seconds if self.call is not None else 0.0

    def overhead_ms(self) -> float:
        return max(0.0, (time.perf_counter() - self.started - self.upstream_seconds) * 1000)


def current_context() -> RequestContext | None:
    return _current.get()


def bind_context(ctx: RequestContext) -> object:
    return _current.set(ctx)


def unbind_context(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
