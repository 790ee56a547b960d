"""W3C trace context (`traceparent`, `tracestate`) in and out of a service.

Both directions use the globally configured propagator (W3C by default, or whatever
`OTEL_PROPAGATORS` names), so every service reads and writes the same headers.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping

from opentelemetry import propagate
from opentelemetry.baggage import _BAGGAGE_KEY
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import (
    DEFAULT_TRACE_STATE,
    INVALID_SPAN_CONTEXT,
    NonRecordingSpan,
    SpanContext,
    TraceFlags,
)
from opentelemetry.trace.propagation import _SPAN_KEY
from starlette.types import Scope

from common.tracing.light import (
    EMPTY_CONTEXT,
    LightSpan,
    current_span,
    get_current_context,
    new_span_context,
    with_span,
)


class _ScopeHeaders(Getter[Scope]):
    """Reads headers straight from an ASGI scope (no Request object, no header copy)."""

    def get(self, carrier: Scope, key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier["headers"] if k == wanted]
        return found or None

    def keys(self, carrier: Scope) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier["headers"]]


SCOPE_HEADERS = _ScopeHeaders()


# The common W3C form, `00-<trace id>-<span id>-<flags>` and nothing else: anything else
# (another version, a suffix, upper case, spaces) goes to the propagators, which know it all.
_TRACEPARENT = re.compile(rb"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_W3C_FIELDS = frozenset({"traceparent", "tracestate", "baggage"})
# A `traceparent`'s flags byte, as written (two lower-case hex digits), to its `TraceFlags`.
_REMOTE_FLAGS = {f"{n:02x}".encode(): TraceFlags(n) for n in range(256)}


class ScopeContextReader:
    """The caller's trace context from an ASGI scope, for one server.

    The propagators (`OTEL_PROPAGATORS`) are asked only when the request carries one of
    their headers. With the default W3C ones and a plain `traceparent` alone (what our own
    services send each other), the header is read here: the same context, for a fraction of
    the propagators' work."""

    def __init__(self) -> None:
        fields = propagate.get_global_textmap().fields
        self.headers = frozenset(name.lower().encode("latin-1") for name in fields)
        self.w3c = "traceparent" in fields and fields <= _W3C_FIELDS

    def __call__(self, scope: Scope) -> Context:
        parent = self.parent(scope)
        if not isinstance(parent, SpanContext):
            return parent
        return with_span(NonRecordingSpan(parent), EMPTY_CONTEXT) if parent[5] else EMPTY_CONTEXT

    def parent(self, scope: Scope) -> SpanContext | Context:
        """The caller's span context when its `traceparent` is read here
        (`INVALID_SPAN_CONTEXT` when it sent none, or all-zero ids), else the context the
        propagators extract: a SERVER span starts under a `SpanContext` without a context
        made for it (`LightTracer.start_under`)."""
        traceparent: bytes | None = None
        for name, value in scope["headers"]:
            if name in self.headers:
                if name != b"traceparent" or traceparent is not None or not self.w3c:
                    return context_from_scope(scope)
                traceparent = value
        if traceparent is None:
            return INVALID_SPAN_CONTEXT
        match = _TRACEPARENT.fullmatch(traceparent)
        if match is None or match[1] == b"ff":
            return context_from_scope(scope)
        trace_id, span_id = int(match[2], 16), int(match[3], 16)
        if not trace_id or not span_id:
            return INVALID_SPAN_CONTEXT  # what the propagator makes of an all-zero id
        return new_span_context(
            (trace_id, span_id, True, _REMOTE_FLAGS[match[4]], DEFAULT_TRACE_STATE, True)
        )


def context_from_scope(scope: Scope) -> Context:
    """The caller's trace context, from the request's headers (empty when it sent none)."""
    return propagate.extract(scope, getter=SCOPE_HEADERS)


def has_trace_parent(scope: Scope) -> bool:
    # a loop, not `any` over a generator: one resumption per header of every MCP request
    for name, _ in scope["headers"]:  # noqa: SIM110
        if name == b"traceparent":
            return True
    return False


def inject_trace_headers(headers: MutableMapping[str, str]) -> None:
    """Add `traceparent` (and `tracestate`) for the current span, if there is one."""
    propagate.inject(headers)


class TraceHeaderWriter:
    """`inject_trace_headers` for one client, with the common case written here: under the
    default W3C propagators and without baggage, `traceparent` (and `tracestate`) exactly as
    the W3C propagator writes them, for a fraction of its work; anything else goes to the
    propagators."""

    def __init__(self) -> None:
        fields = propagate.get_global_textmap().fields
        self.w3c = "traceparent" in fields and fields <= _W3C_FIELDS

    def __call__(self, headers: MutableMapping[str, str]) -> None:
        if not self.w3c:
            propagate.inject(headers)
            return
        context = get_current_context()
        if context.get(_BAGGAGE_KEY):  # what `baggage.get_all` reads, without its four calls
            propagate.inject(headers, context)
            return
        span = context.get(_SPAN_KEY)
        # a light span's context is a slot, read without a call (most requests' case)
        trace_id, span_id, _, flags, state, valid = (
            span.context if type(span) is LightSpan else current_span(context).get_span_context()
        )
        if not valid:
            return
        headers["traceparent"] = f"00-{trace_id:032x}-{span_id:016x}-{flags:02x}"
        # the shared empty state (most spans') is known empty without its `__len__` call
        if state is not DEFAULT_TRACE_STATE and state:
            headers["tracestate"] = state.to_header()
