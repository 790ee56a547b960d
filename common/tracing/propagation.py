"""W3C trace context (`traceparent`, `tracestate`) in and out of a service.

Both directions use the globally configured propagator (W3C by default, or whatever
`OTEL_PROPAGATORS` names), so every service reads and writes the same headers.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from starlette.types import Scope

from common.tracing.light import EMPTY_CONTEXT


class _ScopeHeaders(Getter[Scope]):
    """Reads headers straight from an ASGI scope (no Request object, no header copy)."""

    def get(self, carrier: Scope, key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier["headers"] if k == wanted]
        return found or None

    def keys(self, carrier: Scope) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier["headers"]]


SCOPE_HEADERS = _ScopeHeaders()


def context_headers() -> frozenset[bytes]:
    """The header names the configured propagators read (`fields`), as ASGI spells them."""
    return frozenset(
        name.lower().encode("latin-1") for name in propagate.get_global_textmap().fields
    )


def context_from_scope(scope: Scope, headers: frozenset[bytes] | None = None) -> Context:
    """The caller's trace context, from the request's headers (empty when it sent none).
    Given the propagators' `headers`, a request with none of them starts a new trace
    without asking the propagators."""
    if headers is not None and not any(name in headers for name, _ in scope["headers"]):
        return EMPTY_CONTEXT
    return propagate.extract(scope, getter=SCOPE_HEADERS)


def has_trace_parent(scope: Scope) -> bool:
    return any(name == b"traceparent" for name, _ in scope["headers"])


def inject_trace_headers(headers: MutableMapping[str, str]) -> None:
    """Add `traceparent` (and `tracestate`) for the current span, if there is one."""
    propagate.inject(headers)
