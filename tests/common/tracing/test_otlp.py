"""The hand-written OTLP protobuf says exactly what the SDK's own encoder says: both are
decoded with `opentelemetry-proto` and compared message for message."""

from __future__ import annotations

import pytest
from opentelemetry import propagate
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from common.tracing.light import LightSpan
from common.tracing.otlp import OtlpEncoder, OtlpHttpSpanExporter
from common.tracing.sdk_provider import ToolrelayTracerProvider
from common.tracing.settings import TracingSettings
from tests.support.otlp_receiver import running_receiver
from tests.support.processes import free_port

REMOTE_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _spans(resource: Resource) -> tuple[ReadableSpan, ...]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=resource, span_limits=SpanLimits(max_attributes=12))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    plain = provider.get_tracer("plain")
    versioned = provider.get_tracer(
        "versioned", "1.2.3", schema_url="https://example.com/s", attributes={"scope.k": "v"}
    )
    remote = propagate.extract({"traceparent": REMOTE_PARENT, "tracestate": "vendor=a,other=b"})
    with plain.start_as_current_span(
        "POST /v1/chat/completions", context=remote, kind=SpanKind.SERVER
    ) as root:
        root.set_attributes(
            {
                "text": "héllo",
                "empty": "",
                "zero": 0,
                "negative": -42,
                "big": 2**62,
                "false": False,
                "true": True,
                "ratio": 0.25,
                "strings": ["a", "b"],
                "ints": [1, -2],
                "floats": [1.5],
                "bools": [True, False],
            }
        )
        root.set_attribute("over the limit", 1)  # dropped: counts as a dropped attribute
        root.add_event("gen_ai.content.prompt", {"gen_ai.prompt": "[]"})
        root.add_event("bare")
        with versioned.start_as_current_span(
            "upstream openai/gpt", kind=SpanKind.CLIENT, links=[Link(root.get_span_context())]
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "RateLimitError"))
        with plain.start_as_current_span("ok") as ok:
            ok.set_status(Status(StatusCode.OK))
    with plain.start_as_current_span("another root", kind=SpanKind.PRODUCER):
        pass
    provider.shutdown()
    return memory.get_finished_spans()


def test_encoding_matches_the_sdk_encoder() -> None:
    resource = Resource.create({"service.name": "toolrelay-test"}, schema_url="https://r/s")
    spans = _spans(resource)
    assert len(spans) == 4
    ours = ExportTraceServiceRequest.FromString(OtlpEncoder().encode(spans))
    assert ours == sdk_encode(spans)
    encoded = {s.name: s for scope in ours.resource_spans[0].scope_spans for s in scope.spans}
    assert encoded["POST /v1/chat/completions"].dropped_attributes_count == 1
    assert encoded["POST /v1/chat/completions"].trace_state == "vendor=a,other=b"


def test_light_spans_encode_as_the_sdk_encodes_the_same_spans() -> None:
    """Light spans go to the encoder as they are (no `ReadableSpan` copy): the bytes decode
    to what the SDK's encoder makes of the same spans, including the cached attributes
    (one key and value in a span and in an event; True next to 1; a string next to the
    one-string list of the same key and text)."""
    finished: list[LightSpan] = []
    provider = ToolrelayTracerProvider(TracingSettings(service_name="light"))
    provider.fanout = _Keep(finished)  # type: ignore[assignment]  # before the tracer reads it
    tracer = provider.light_tracer("toolrelay.test")
    remote = propagate.extract({"traceparent": REMOTE_PARENT, "tracestate": "vendor=a"})
    for _ in range(2):  # the second time through, every cacheable attribute is cached
        with tracer.start_as_current(
            "POST /v1/chat/completions", kind=SpanKind.SERVER, context=remote,
            attributes={"flag": True, "count": 1, "gen_ai.request.model": "m", "long": "x" * 99,
                        "gen_ai.response.finish_reasons": "stop"},
        ) as root:  # fmt: skip
            root.add_event("iteration", {"count": 1, "flag": True})
            with tracer.start_as_current("upstream openai/m", kind=SpanKind.CLIENT) as child:
                child.set_attributes({"gen_ai.usage.input_tokens": 3, "ratio": 0.5})
                child.set_attribute("gen_ai.response.finish_reasons", ["stop"])
        with pytest.raises(ValueError), tracer.start_as_current("failing"):
            raise ValueError("boom")
    assert len(finished) == 6
    readable = [
        ReadableSpan(
            name=s.name,
            context=s.context,
            parent=s.parent,
            resource=s.resource,
            attributes=s.attributes,
            events=s.events,
            kind=s.kind,
            status=s.status,
            start_time=s.start_time,
            end_time=s.end_time,
            instrumentation_scope=s.instrumentation_scope,
        )
        for s in finished
    ]
    encoder = OtlpEncoder()
    for _ in range(2):
        ours = ExportTraceServiceRequest.FromString(encoder.encode(finished))
        assert ours == sdk_encode(readable)
    failing = next(s for s in finished if s.name == "failing")
    stack = failing.events[0].attributes or {}
    assert "ValueError: boom" in str(stack["exception.stacktrace"])
    assert "test_light_spans_encode" in str(stack["exception.stacktrace"])


class _Keep:
    def __init__(self, into: list[LightSpan]) -> None:
        self.into = into

    def finish(self, span: LightSpan) -> None:
        self.into.append(span)


def test_encoder_reuses_its_caches_across_batches() -> None:
    spans = _spans(Resource.create({"service.name": "svc"}))
    encoder = OtlpEncoder(max_keys=2, max_scopes=1)
    for _ in range(3):  # over both bounds: the caches are reset, the output is unchanged
        assert ExportTraceServiceRequest.FromString(encoder.encode(spans)) == sdk_encode(spans)


def test_values_that_keep_changing_encode_as_the_sdk_encodes_them() -> None:
    """Ids and token counts change with every span: past a few dozen values a key is no
    longer cached (its values would only push out those that repeat), and each value is
    written inline. The bytes stay the SDK's for every value, cached or not: ints on one,
    two and more varint bytes, negative ints, True next to 1 under one key, strings of
    every length around the inline and cache limits."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "changing"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("changing")
    ints = [0, 1, 127, 128, 300, 16383, 16384, 2**35, -1, -(2**40)]
    for i in range(300):
        with tracer.start_as_current_span("upstream openai/m", kind=SpanKind.CLIENT) as span:
            span.set_attributes(
                {
                    "toolrelay.request_id": f"{i:032x}",
                    "gen_ai.usage.input_tokens": ints[i % len(ints)] + i * 7 * (i % 3),
                    "gen_ai.request.model": ("a", "b", "c")[i % 3],
                    "mixed": True if i % 2 else 1,
                    "text": "é" * (i % 140),
                    "gen_ai.response.finish_reasons": [("stop", "length")[i % 2]],
                }
            )
            span.add_event("iteration", {"n": i, "toolrelay.request_id": f"{i:032x}"})
    provider.shutdown()
    spans = memory.get_finished_spans()
    encoder = OtlpEncoder(max_attributes=200)
    for start in range(0, len(spans), 50):
        batch = spans[start : start + 50]
        assert ExportTraceServiceRequest.FromString(encoder.encode(batch)) == sdk_encode(batch)
    # bounded: the keys whose values repeat are cached, the others stopped being
    assert encoder._cached_attributes <= 200 + 64


def test_exporter_posts_protobuf_the_receiver_decodes() -> None:
    spans = _spans(Resource.create({"service.name": "svc"}))
    with running_receiver(required_auth="Basic abc") as receiver:
        exporter = OtlpHttpSpanExporter(receiver.endpoint, {"Authorization": "Basic abc"}, 5.0)
        assert exporter.export(spans).name == "SUCCESS"
        refused = OtlpHttpSpanExporter(receiver.endpoint, {"Authorization": "Basic no"}, 5.0)
        assert refused.export(spans).name == "FAILURE"
        received = receiver.wait_for(lambda got: len(got) >= 4)
        exporter.shutdown()
        refused.shutdown()
    assert {s.name for s in received} == {s.name for s in spans}
    assert {s.service for s in received} == {"svc"}
    dead = OtlpHttpSpanExporter(f"http://127.0.0.1:{free_port()}/v1/traces", {}, 1.0)
    assert dead.export(spans).name == "FAILURE"
    dead.shutdown()
