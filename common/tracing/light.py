"""Our own spans, without the SDK's per-span machinery.

The SDK's `Tracer.start_span` costs more than its span is worth on a request path this short:
a sampler result object, a bounded and validated attribute map, a lock per `set_attribute`,
span-limit bookkeeping, self-metrics, start and end callbacks on every processor and a copy
of the span when it ends. Profiled under load (bench/tracing_cost.py, py-spy), two SDK spans
per gateway request were two thirds of the whole cost of tracing.

A `LightSpan` keeps its attributes in a plain dict (ours are always strings, numbers, bools
or lists of strings, so nothing needs validating) and, when it ends, goes itself into the
provider's export queues (no copy): the exporter reads from it what it reads from the SDK's
`ReadableSpan`. With the default sampler (`parentbased_always_on`) the decision is taken
from the parent's flags without a sampler call. Ids, the
sampler, the resource and the processors are the installed provider's, so light and SDK
spans (the MCP SDK's, say) share one trace and one export queue, and the standard
`OTEL_TRACES_SAMPLER` applies to both.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Protocol

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, DEFAULT_ON, Decision, Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import Attributes, AttributeValue

# The four flag combinations, made once: sampled or not, random trace id or not.
_FLAGS = {
    (sampled, random): TraceFlags(
        (TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
        | (TraceFlags.RANDOM_TRACE_ID if random else 0)
    )
    for sampled in (False, True)
    for random in (False, True)
}
_UNSET = Status(StatusCode.UNSET)
EMPTY_CONTEXT = context_api.Context()  # a new trace's parent context (immutable)


class SpanQueue(Protocol):
    """Where a finished light span goes: the export processor's queue."""

    def enqueue(self, span: LightSpan) -> None: ...


class SpanSource(Protocol):
    """What light spans take from the installed provider (`ToolrelayTracerProvider`)."""

    @property
    def resource(self) -> Resource: ...
    @property
    def sampler(self) -> Sampler: ...
    @property
    def id_generator(self) -> IdGenerator: ...
    @property
    def processors(self) -> Sequence[SpanQueue]: ...


class LightSpan(trace_api.Span):
    """A recording span that belongs to one `LightTracer`; ends exactly once. Once ended it
    is itself the finished span the exporter encodes (it reads what `ReadableSpan` has)."""

    __slots__ = (
        "_attributes", "_context", "_end", "_events", "_kind", "_name", "_parent", "_start",
        "_status", "_tracer",
    )  # fmt: skip

    links: Sequence[Link] = ()
    dropped_attributes = 0
    dropped_events = 0
    dropped_links = 0

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
        self._status = _UNSET
        self._start = time.time_ns()
        self._end: int | None = None

    # What the exporter reads (`common.tracing.otlp.ExportableSpan`).
    @property
    def name(self) -> str:
        return self._name

    @property
    def context(self) -> SpanContext:
        return self._context

    @property
    def parent(self) -> SpanContext | None:
        return self._parent

    @property
    def kind(self) -> SpanKind:
        return self._kind

    @property
    def start_time(self) -> int:
        return self._start

    @property
    def end_time(self) -> int | None:
        return self._end

    @property
    def attributes(self) -> Attributes:
        return self._attributes

    @property
    def events(self) -> Sequence[Event]:
        return self._events

    @property
    def status(self) -> Status:
        return self._status

    @property
    def resource(self) -> Resource:
        return self._tracer.provider.resource

    @property
    def instrumentation_scope(self) -> InstrumentationScope:
        return self._tracer.scope

    # The span API.
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
        """An `exception` event with the semantic conventions' type, message and stack
        (formatted only here, on the error path)."""
        details: dict[str, AttributeValue] = {
            "exception.type": type(exception).__qualname__,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(
                traceback.format_exception(type(exception), exception, exception.__traceback__)
            ),
        }
        self.add_event("exception", {**details, **(attributes or {})}, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end is not None:
            return
        self._end = end_time or time.time_ns()
        for processor in self._tracer.provider.processors:
            processor.enqueue(self)


class LightTracer:
    """Starts `LightSpan`s with the provider's ids and sampler; they end into its
    processors. `memo` keeps what a caller derives once per tracer (attribute sets per
    deployment, say); it belongs to the installed provider, so nothing outlives it."""

    def __init__(self, provider: SpanSource, name: str, memo_size: int = 1024) -> None:
        self.provider = provider
        # The instrumentation scope the exporter groups spans by, as the SDK's tracer has it.
        self.scope = InstrumentationScope(name)
        self.memo: dict[object, object] = {}
        self.memo_size = memo_size

    def remember(self, key: object, value: object) -> None:
        if len(self.memo) >= self.memo_size:
            self.memo.clear()
        self.memo[key] = value

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
        return self._start(name, kind, attributes, context)[0]

    def _start(
        self,
        name: str,
        kind: SpanKind,
        attributes: dict[str, AttributeValue] | None,
        context: context_api.Context | None,
    ) -> tuple[trace_api.Span, context_api.Context]:
        if context is None:
            context = context_api.get_current()
        parent = trace_api.get_current_span(context).get_span_context()
        provider = self.provider
        ids = provider.id_generator
        sampler = provider.sampler
        if parent.is_valid:
            trace_id, random = parent.trace_id, parent.trace_flags.random_trace_id
        else:
            trace_id, random = ids.generate_trace_id(), ids.is_trace_id_random()
        # The default samplers decide from the parent alone: no sampler call, no result.
        if sampler is DEFAULT_ON:
            sampled = parent.trace_flags.sampled if parent.is_valid else True
            state = parent.trace_state if parent.is_valid else None
        elif sampler is ALWAYS_ON:
            sampled, state = True, parent.trace_state if parent.is_valid else None
        else:
            decision = sampler.should_sample(context, trace_id, name, kind, attributes)
            sampled = decision.decision is Decision.RECORD_AND_SAMPLE
            state = decision.trace_state
        span_context = SpanContext(
            trace_id, ids.generate_span_id(), is_remote=False,
            trace_flags=_FLAGS[sampled, random], trace_state=state,
        )  # fmt: skip
        span: trace_api.Span
        if sampled:
            span = LightSpan(
                self, name, span_context, parent if parent.is_valid else None, kind,
                attributes or {},
            )  # fmt: skip
        else:
            span = trace_api.NonRecordingSpan(span_context)
        return span, context

    def start_as_current(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: dict[str, AttributeValue] | None = None,
        context: context_api.Context | None = None,
    ) -> CurrentSpan:
        span, parent_context = self._start(name, kind, attributes, context)
        return CurrentSpan(span, parent_context)


class CurrentSpan:
    """`with`: the span is current inside and ends on the way out; an exception leaves it
    marked as an error (and recorded), then propagates. The context it makes current is the
    parent's context plus the span (already read when the span started: not read again)."""

    __slots__ = ("_parent_context", "_token", "span")

    def __init__(
        self, span: trace_api.Span, parent_context: context_api.Context | None = None
    ) -> None:
        self.span = span
        self._parent_context = parent_context
        self._token: object = None

    def __enter__(self) -> trace_api.Span:
        self._token = context_api.attach(
            trace_api.set_span_in_context(self.span, self._parent_context)
        )
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
