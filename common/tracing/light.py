"""Our own spans, without the SDK's per-span machinery.

The SDK's `Tracer.start_span` costs more than its span is worth on a request path this short:
a sampler result object, a bounded and validated attribute map, a lock per `set_attribute`,
span-limit bookkeeping, self-metrics, start and end callbacks on every processor and a copy
of the span when it ends. Profiled under load (bench/tracing_cost.py, py-spy), two SDK spans
per gateway request were two thirds of the whole cost of tracing.

A `LightSpan` keeps its attributes in a plain dict (ours are always strings, numbers, bools
or lists of strings, so nothing needs validating) and, when it ends, hands one `ReadableSpan`
to the provider's export processors: the same span the SDK would have exported. Ids, the
sampler, the resource and the processors are the installed provider's, so light and SDK
spans (the MCP SDK's, say) share one trace and one export queue, and the standard
`OTEL_TRACES_SAMPLER` applies to both.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Protocol

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import Decision, Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import Attributes, AttributeValue

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_RANDOM = TraceFlags.RANDOM_TRACE_ID


class SpanSource(Protocol):
    """What light spans take from the installed provider (`ToolrelayTracerProvider`)."""

    @property
    def resource(self) -> Resource: ...
    @property
    def sampler(self) -> Sampler: ...
    @property
    def id_generator(self) -> IdGenerator: ...
    @property
    def processors(self) -> Sequence[SpanProcessor]: ...


class LightSpan(trace_api.Span):
    """A recording span that belongs to one `LightTracer`; ends exactly once."""

    __slots__ = (
        "_attributes", "_context", "_end", "_events", "_kind", "_name", "_parent", "_start",
        "_status", "_tracer",
    )  # fmt: skip

    def __init__(
        self,
        tracer: LightTracer,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, AttributeValue],
    ) -> None:
        self._tracer = tracer
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._attributes = attributes
        self._events: list[Event] = []
        self._status = Status(StatusCode.UNSET)
        self._start = time.time_ns()
        self._end: int | None = None

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self._end is None

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        if self._end is None:
            self._attributes.update(attributes)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        if self._end is None:
            self._attributes[key] = value

    def add_event(
        self, name: str, attributes: Attributes = None, timestamp: int | None = None
    ) -> None:
        if self._end is None:
            self._events.append(Event(name, attributes, timestamp or time.time_ns()))

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        return None  # our spans carry no links

    def update_name(self, name: str) -> None:
        if self._end is None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self._end is not None:
            return
        if isinstance(status, Status):
            self._status = status
        else:
            self._status = Status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        details: dict[str, AttributeValue] = {
            "exception.type": type(exception).__qualname__,
            "exception.message": str(exception),
        }
        self.add_event("exception", {**details, **(attributes or {})}, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end is not None:
            return
        self._end = end_time or time.time_ns()
        self._tracer.finish(self)

    def readable(self) -> ReadableSpan:
        return ReadableSpan(
            name=self._name,
            context=self._context,
            parent=self._parent,
            resource=self._tracer.provider.resource,
            attributes=self._attributes,
            events=self._events,
            kind=self._kind,
            status=self._status,
            start_time=self._start,
            end_time=self._end,
            instrumentation_scope=self._tracer.scope,
        )


class LightTracer:
    """Starts `LightSpan`s with the provider's ids and sampler; ends them into its
    processors."""

    def __init__(self, provider: SpanSource, name: str) -> None:
        self.provider = provider
        # The instrumentation scope the exporter groups spans by, as the SDK's tracer has it.
        self.scope = InstrumentationScope(name)

    def start(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: dict[str, AttributeValue] | None = None,
        context: context_api.Context | None = None,
    ) -> trace_api.Span:
        """A recording span, or a non-recording one that still carries the trace on when
        the sampler says no. The caller owns `attributes` from here on."""
        parent = trace_api.get_current_span(context).get_span_context()
        ids = self.provider.id_generator
        if parent.is_valid:
            trace_id, random = parent.trace_id, parent.trace_flags.random_trace_id
        else:
            trace_id, random = ids.generate_trace_id(), ids.is_trace_id_random()
        decision = self.provider.sampler.should_sample(context, trace_id, name, kind, attributes)
        sampled = decision.decision is Decision.RECORD_AND_SAMPLE
        flags = _SAMPLED if sampled else _NOT_SAMPLED
        if random:
            flags = TraceFlags(flags | _RANDOM)
        span_context = SpanContext(
            trace_id, ids.generate_span_id(), is_remote=False, trace_flags=flags,
            trace_state=decision.trace_state,
        )  # fmt: skip
        if not sampled:
            return trace_api.NonRecordingSpan(span_context)
        return LightSpan(
            self, name, span_context, parent if parent.is_valid else None, kind, attributes or {}
        )

    def start_as_current(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: dict[str, AttributeValue] | None = None,
        context: context_api.Context | None = None,
    ) -> CurrentSpan:
        return CurrentSpan(self.start(name, kind=kind, attributes=attributes, context=context))

    def finish(self, span: LightSpan) -> None:
        readable = span.readable()
        for processor in self.provider.processors:
            processor.on_end(readable)


class CurrentSpan:
    """`with`: the span is current inside and ends on the way out; an exception leaves it
    marked as an error (and recorded), then propagates."""

    __slots__ = ("_token", "span")

    def __init__(self, span: trace_api.Span) -> None:
        self.span = span
        self._token: object = None

    def __enter__(self) -> trace_api.Span:
        self._token = context_api.attach(trace_api.set_span_in_context(self.span))
        return self.span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        context_api.detach(self._token)  # type: ignore[arg-type]
        if exc is not None and self.span.is_recording():
            self.span.record_exception(exc)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        self.span.end()


def light_tracer(name: str) -> LightTracer | None:
    """This process's light tracer for `name`, or None when tracing is off."""
    provider = trace_api.get_tracer_provider()
    light = getattr(provider, "light_tracer", None)
    return light(name) if light is not None else None
