"""Light spans: the provider's ids, sampler and export queue; parent and child in one
trace; an exception marks the span; a span ends (and is exported) once."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

from common.tracing.sdk_provider import ToolrelayTracerProvider
from common.tracing.settings import OtlpTarget, TracingSettings
from tests.support.otlp_receiver import ReceivedSpan, running_receiver


def _provider(endpoint: str) -> ToolrelayTracerProvider:
    return ToolrelayTracerProvider(
        TracingSettings(service_name="light-test", targets=(OtlpTarget("otel", endpoint),))
    )


def test_light_and_sdk_spans_share_one_trace_and_queue() -> None:
    with running_receiver() as receiver:
        provider = _provider(receiver.endpoint)
        light = provider.light_tracer("test.light")
        assert provider.light_tracer("test.light") is light  # one per name
        with light.start_as_current(
            "POST /x", kind=SpanKind.SERVER, attributes={"url.path": "/x"}
        ) as root:
            root.set_attribute("http.response.status_code", 200)
            root.add_event("iteration", {"toolrelay.loop.iteration": 1})
            # An SDK span started inside (the MCP SDK's, say) is the light span's child.
            with provider.get_tracer("sdk").start_as_current_span("sdk child"):
                assert trace.get_current_span().is_recording()
            with (
                pytest.raises(ValueError, match="boom"),
                light.start_as_current("failing", kind=SpanKind.CLIENT),
            ):
                raise ValueError("boom")
        root.end()  # a second end exports nothing more
        root.set_attribute("late", True)  # ignored once ended
        assert provider.force_flush(30_000)
        spans = {s.name: s for s in receiver.wait_for(lambda got: len(got) >= 3)}
        provider.shutdown()
    assert set(spans) == {"POST /x", "sdk child", "failing"}
    parent: ReceivedSpan = spans["POST /x"]
    assert parent.kind == "SERVER" and parent.parent_span_id == ""
    assert parent.service == "light-test"
    assert parent.attributes == {"url.path": "/x", "http.response.status_code": 200}
    assert parent.events == (("iteration", {"toolrelay.loop.iteration": 1}),)
    for child in ("sdk child", "failing"):
        assert spans[child].trace_id == parent.trace_id
        assert spans[child].parent_span_id == parent.span_id
    failing = spans["failing"]
    assert failing.status_code == StatusCode.ERROR.value
    assert [name for name, _ in failing.events] == ["exception"]
    assert failing.events[0][1]["exception.type"] == "ValueError"
    stack = failing.events[0][1]["exception.stacktrace"]
    assert stack.startswith("Traceback (most recent call last):")
    assert stack.rstrip().endswith("ValueError: boom")


def test_sampler_says_no_the_trace_still_flows_unrecorded() -> None:
    with running_receiver() as receiver:
        provider = _provider(receiver.endpoint)
        provider.sampler = ALWAYS_OFF
        with provider.light_tracer("t").start_as_current("dropped") as span:
            assert not span.is_recording()
            context = span.get_span_context()
            assert context.is_valid and not context.trace_flags.sampled
        assert provider.force_flush(30_000)
        assert provider.processors[0].exported == 0
        provider.shutdown()
