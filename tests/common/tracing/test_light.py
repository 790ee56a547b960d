"""Light spans: the provider's ids, sampler and export queue; parent and child in one
trace; an exception marks the span; a span ends (and is exported) once; the shortcuts past
the API (`new_span_context`, `current_span`, `with_span`) give what the API gives."""

from __future__ import annotations

import contextvars
from typing import Any

import pytest
from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    DEFAULT_OFF,
    DEFAULT_ON,
    Decision,
    ParentBased,
    ParentBasedTraceIdRatio,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import (
    DEFAULT_TRACE_STATE,
    INVALID_SPAN,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    StatusCode,
    TraceFlags,
    TraceState,
)

from common.tracing.light import (
    LightSpan,
    current_span,
    get_current_context,
    new_span_context,
    with_span,
)
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


def test_span_context_builds_what_the_api_builds() -> None:
    """`new_span_context` skips `SpanContext`'s validation by building its tuple directly: if a
    new API release changed the tuple's layout, this fails instead of every trace id."""
    flags = TraceFlags(TraceFlags.SAMPLED)
    state = TraceState([("vendor", "value")])
    for remote, given_state in ((False, None), (True, state)):
        fast = new_span_context(
            (0xABC, 0xDEF, remote, flags, given_state or DEFAULT_TRACE_STATE, True)
        )
        made = SpanContext(0xABC, 0xDEF, is_remote=remote, trace_flags=flags,
                           trace_state=given_state)  # fmt: skip
        assert fast == made and type(fast) is SpanContext
        assert (fast.trace_id, fast.span_id, fast.is_remote) == (0xABC, 0xDEF, remote)
        assert fast.trace_flags == flags and fast.trace_state == made.trace_state
        assert fast.is_valid


def test_current_span_finds_what_the_api_finds() -> None:
    provider = _provider("http://127.0.0.1:9/v1/traces")  # nothing is exported here
    light = provider.light_tracer("t")
    assert current_span() is trace.get_current_span() is INVALID_SPAN
    with light.start_as_current("outer") as outer:
        assert current_span() is trace.get_current_span() is outer
        # An SDK span (another library's) is found through the API's own lookup.
        with provider.get_tracer("sdk").start_as_current_span("sdk") as sdk:
            assert current_span() is trace.get_current_span() is sdk
        remote = NonRecordingSpan(
            new_span_context((1, 2, True, TraceFlags(1), DEFAULT_TRACE_STATE, True))
        )
        context = with_span(remote, None)
        assert current_span(context) is trace.get_current_span(context) is remote
        # with_span keeps what the context held besides the span
        assert context_api.get_value("k", with_span(remote, context_api.set_value("k", 1))) == 1
    assert current_span() is INVALID_SPAN
    provider.shutdown()


def test_the_context_switch_is_the_apis_own() -> None:
    """Light spans set and reset the API's ContextVar directly: what they make current is
    what the API reads, and the API's own attach inside is undone in order."""
    provider = _provider("http://127.0.0.1:9/v1/traces")
    light = provider.light_tracer("t")
    with light.start_as_current("outer") as outer:
        assert context_api.get_current() is get_current_context()
        token = context_api.attach(context_api.set_value("k", 1))
        assert current_span() is outer and context_api.get_value("k") == 1
        context_api.detach(token)
    assert trace.get_current_span() is INVALID_SPAN
    provider.shutdown()


def test_a_span_left_in_another_context_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A `with` entered in one context and left in another (an async generator closed by
    another task) cannot reset the context var there: the API logs that and goes on, and so
    do light spans; the span still ends."""
    provider = _provider("http://127.0.0.1:9/v1/traces")
    current = provider.light_tracer("t").start_as_current("moved")
    span = current.__enter__()
    contextvars.copy_context().run(current.__exit__, None, None, None)
    assert not span.is_recording()  # ended
    assert "Failed to detach context" in caplog.text
    assert current_span() is span  # still current here, where it was entered
    context_api.detach(current._token)  # type: ignore[arg-type]
    assert current_span() is INVALID_SPAN
    provider.shutdown()


def test_a_leaf_span_is_a_child_that_is_never_current() -> None:
    with running_receiver() as receiver:
        provider = _provider(receiver.endpoint)
        light = provider.light_tracer("t")
        with light.start_as_current("server", kind=SpanKind.SERVER) as server:
            with light.start_leaf("attempt 1", kind=SpanKind.CLIENT) as leaf:
                assert leaf.is_recording() and current_span() is server
            assert not leaf.is_recording()  # ended on the way out
            with pytest.raises(ValueError), light.start_leaf("attempt 2"):
                raise ValueError("upstream said no")
        assert provider.force_flush(30_000)
        spans = {s.name: s for s in receiver.wait_for(lambda got: len(got) >= 3)}
        provider.shutdown()
    for name in ("attempt 1", "attempt 2"):
        assert spans[name].parent_span_id == spans["server"].span_id
        assert spans[name].trace_id == spans["server"].trace_id
    assert spans["attempt 1"].status_code == StatusCode.UNSET.value
    assert spans["attempt 2"].status_code == StatusCode.ERROR.value
    assert [name for name, _ in spans["attempt 2"].events] == ["exception"]


class _Doubting(ParentBased):
    """A parent-based sampler of someone's own: asked, never second-guessed."""

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        return SamplingResult(Decision.DROP)


class _NoLeaves(Sampler):
    """Samples every span but the ones named "leaf": a sampler that does not follow the
    parent, so a leaf under a sampled span must ask it."""

    def should_sample(
        self, parent_context: Any, trace_id: int, name: str, *args: Any, **kwargs: Any
    ) -> SamplingResult:
        return SamplingResult(Decision.DROP if name == "leaf" else Decision.RECORD_AND_SAMPLE)

    def get_description(self) -> str:
        return "NoLeaves"


@pytest.mark.parametrize(
    "sampler",
    [
        _NoLeaves(),
        ALWAYS_OFF,
        ALWAYS_ON,
        DEFAULT_ON,
        DEFAULT_OFF,
        ParentBasedTraceIdRatio(0.5),
        ParentBasedTraceIdRatio(0.0),
        ParentBased(ALWAYS_ON, remote_parent_not_sampled=ALWAYS_ON),
        _Doubting(ALWAYS_ON),
        TraceIdRatioBased(0.5),
    ],
    ids=lambda sampler: type(sampler).__name__ + ":" + sampler.get_description()[:40],
)
def test_light_spans_sample_as_the_sdk_decides(sampler: Sampler) -> None:
    """The decisions light spans take without asking the sampler (the defaults, and any
    parent-based sampler under a parent) are the ones the sampler gives when asked: for
    remote and local parents, sampled or not, with a trace state, and for new traces."""
    provider = _provider("http://127.0.0.1:9/v1/traces")  # nothing is exported here
    provider.sampler = sampler
    light = provider.light_tracer("t")
    state = TraceState([("vendor", "v")])
    parents = [
        new_span_context((0xABC, 0x1, remote, TraceFlags(flags), state, True))
        for remote in (True, False)
        for flags in (0, 1)
    ]
    contexts = [with_span(NonRecordingSpan(p), context_api.Context()) for p in parents]
    for context in [*contexts, context_api.Context()]:
        for trace_bits in range(4):  # ratio samplers decide by the trace id: several
            if context_api.Context() == context:
                provider.id_generator = _FixedIds(0x9 + trace_bits * 0x3FFF_FFFF_FFFF_FFFF)
            span = light.start("s", context=context)
            made = span.get_span_context()
            asked = sampler.should_sample(context, made.trace_id, "s")
            assert made.trace_flags.sampled == asked.decision.is_sampled()
            assert made.trace_state == (asked.trace_state or TraceState())
            # A leaf under it (a router attempt) decides as the sampler would, too: under a
            # light span it takes a shortcut of its own.
            token = context_api.attach(with_span(span, context))
            try:
                with light.start_leaf("leaf") as leaf:
                    of_leaf = leaf.get_span_context()
            finally:
                context_api.detach(token)
            asked = sampler.should_sample(with_span(span, context), made.trace_id, "leaf")
            assert of_leaf.trace_id == made.trace_id
            assert of_leaf.trace_flags.sampled == asked.decision.is_sampled()
            assert of_leaf.trace_state == (asked.trace_state or TraceState())
            if isinstance(leaf, LightSpan):
                assert leaf.parent == made
            span.end()
    provider.shutdown()


class _FixedIds(RandomIdGenerator):
    def __init__(self, trace_id: int) -> None:
        self.trace_id = trace_id

    def generate_trace_id(self) -> int:
        return self.trace_id
