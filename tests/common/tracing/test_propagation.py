"""The SERVER span's parent: the fast read of a plain `traceparent` gives the context the
propagators give, and anything unusual goes to the propagators themselves. The same both
ways: the headers a client writes are the propagators' headers."""

from __future__ import annotations

import pytest
from opentelemetry import baggage, context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState
from starlette.types import Scope

from common.tracing.propagation import SCOPE_HEADERS, ScopeContextReader, TraceHeaderWriter

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"


def _scope(*headers: tuple[str, str]) -> Scope:
    return {
        "type": "http",
        "headers": [(b"content-type", b"application/json")]
        + [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }


def _parent(context: Context) -> tuple[object, ...]:
    span_context = trace.get_current_span(context).get_span_context()
    return (
        span_context.trace_id,
        span_context.span_id,
        span_context.is_remote,
        span_context.trace_flags,
        tuple(span_context.trace_state.items()),
        span_context.is_valid,
    )


@pytest.mark.parametrize(
    "headers",
    [
        (),
        (("traceparent", f"00-{TRACE}-{SPAN}-01"),),
        (("traceparent", f"00-{TRACE}-{SPAN}-00"),),
        (("traceparent", f"00-{TRACE}-{SPAN}-03"),),
        (("traceparent", f"01-{TRACE}-{SPAN}-01-future"),),
        (("traceparent", f"00-{TRACE}-{SPAN}-01-extra"),),
        (("traceparent", f"ff-{TRACE}-{SPAN}-01"),),
        (("traceparent", f"00-{'0' * 32}-{SPAN}-01"),),
        (("traceparent", f"00-{TRACE}-{'0' * 16}-01"),),
        (("traceparent", f"00-{TRACE.upper()}-{SPAN}-01"),),
        (("traceparent", f" 00-{TRACE}-{SPAN}-01"),),
        (("traceparent", "garbage"),),
        (("traceparent", f"00-{TRACE}-{SPAN}-01"), ("tracestate", "vendor=a,other=b")),
        (("traceparent", f"00-{TRACE}-{SPAN}-01"), ("baggage", "user=alice")),
        (("traceparent", f"00-{TRACE}-{SPAN}-01"), ("traceparent", f"00-{TRACE}-{SPAN}-00")),
        (("baggage", "user=alice"),),
    ],
)
def test_reader_gives_what_the_propagators_give(headers: tuple[tuple[str, str], ...]) -> None:
    scope = _scope(*headers)
    ours = ScopeContextReader()(scope)
    theirs = propagate.extract(scope, getter=SCOPE_HEADERS)
    assert _parent(ours) == _parent(theirs)
    assert dict(ours).keys() == dict(theirs).keys()


def test_header_writer_writes_what_the_propagators_write() -> None:
    """The W3C shortcut gives the propagators' headers: traceparent with the flags, the
    tracestate, and with baggage in the context the propagators themselves."""
    writer = TraceHeaderWriter()
    assert writer.w3c
    empty: dict[str, str] = {}
    writer(empty)
    assert empty == {}  # no current span: nothing
    parent = SpanContext(
        0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, is_remote=False,
        trace_flags=TraceFlags(0x01), trace_state=TraceState([("vendor", "a")]),
    )  # fmt: skip
    current = trace.set_span_in_context(NonRecordingSpan(parent))
    for extra in ({}, {"user": "u1"}):
        ctx = current
        for key, value in extra.items():
            ctx = baggage.set_baggage(key, value, ctx)
        token = context.attach(ctx)
        try:
            ours: dict[str, str] = {}
            writer(ours)
            theirs: dict[str, str] = {}
            propagate.inject(theirs)
        finally:
            context.detach(token)
        assert ours == theirs
        assert ours["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        assert ours["tracestate"] == "vendor=a"
        assert ("baggage" in ours) == bool(extra)
