"""The provider's tracers: libraries whose spans repeat ours (the MCP SDK's) get a tracer
that records nothing and leaves the context as it is, so what they propagate names our span;
every other library gets the SDK's, into the same trace and export queue."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from common.tracing.sdk_provider import SilentTracer, ToolrelayTracerProvider
from common.tracing.settings import OtlpTarget, TracingSettings
from tests.support.otlp_receiver import running_receiver


def _provider(endpoint: str) -> ToolrelayTracerProvider:
    return ToolrelayTracerProvider(
        TracingSettings(service_name="provider-test", targets=(OtlpTarget("otel", endpoint),))
    )


def test_mcp_sdk_spans_are_not_recorded_and_carry_our_span_on() -> None:
    with running_receiver() as receiver:
        provider = _provider(receiver.endpoint)
        mcp_sdk = provider.get_tracer("mcp-python-sdk")
        assert isinstance(mcp_sdk, SilentTracer)
        with provider.light_tracer("test").start_as_current(
            "execute_tool execute_sql", kind=SpanKind.INTERNAL
        ) as ours:
            # what the MCP SDK's client does around each message it sends
            with mcp_sdk.start_as_current_span(
                "MCP send tools/call execute_sql", kind=SpanKind.CLIENT
            ) as theirs:
                assert not theirs.is_recording()
                assert theirs.get_span_context() == ours.get_span_context()
                assert trace.get_current_span() is ours  # the context is left as it was
                carrier: dict[str, str] = {}
                propagate.inject(carrier)
            # another library's spans are the SDK's, recorded under ours
            with provider.get_tracer("other-library").start_as_current_span("other") as other:
                assert other.is_recording()
        assert provider.force_flush(30_000)
        spans = receiver.wait_for(lambda got: len(got) >= 2)
        provider.shutdown()
    context = ours.get_span_context()
    flags = int(context.trace_flags)
    assert (
        carrier["traceparent"] == f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags:02x}"
    )
    assert sorted(s.name for s in spans) == ["execute_tool execute_sql", "other"]
    (child,) = [s for s in spans if s.name == "other"]
    assert child.parent_span_id == f"{context.span_id:016x}"
