"""Our own spans, without the SDK's per-span machinery.

The SDK's `Tracer.start_span` costs more than its span is worth on a request path this short:
a sampler result object, a bounded and validated attribute map, a lock per `set_attribute`,
span-limit bookkeeping, self-metrics, start and end callbacks on every processor and a copy
of the span when it ends. Profiled under load (bench/tracing_cost.py, py-spy), two SDK spans
per gateway request were two thirds of the whole cost of tracing.

A `LightSpan` keeps its attributes in a plain dict (ours are always strings, numbers, bools
or lists of strings, so nothing needs validating) and, when it ends, goes itself to the
provider's `SpanFanout` (no copy), which queues it for each target; the export thread's
encoder reads from it what it reads from the SDK's `ReadableSpan`. With the default sampler
(`parentbased_always_on`) the decision is taken from the parent's flags without a sampler
call. Ids, the sampler, the resource and the fan-out are the installed provider's, so light
and SDK spans (the MCP SDK's, say) share one trace and one export queue, and the standard
`OTEL_TRACES_SAMPLER` applies to both.
"""

from __future__ import annotations

import logging
import random as _random_module
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from functools import partial
from types import TracebackType
from typing import Protocol

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    DEFAULT_ON,
    Decision,
    ParentBased,
    ParentBasedTraceIdRatio,
    Sampler,
)
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    DEFAULT_TRACE_STATE,
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)
from opentelemetry.trace.propagation import _SPAN_KEY
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
UNSET_STATUS = Status(StatusCode.UNSET)  # every light span's, until one is set
EMPTY_CONTEXT = context_api.Context()  # a new trace's parent context (immutable)
_SAMPLED = int(TraceFlags.SAMPLED)
_RANDOM_TRACE_ID = int(TraceFlags.RANDOM_TRACE_ID)
# What the SDK's `RandomIdGenerator` draws its ids from, called here directly: its methods are
# a Python frame around this one C call, and every span takes an id.
_getrandbits = _random_module.getrandbits
_time_ns = time.time_ns

log = logging.getLogger(__name__)


def _runtime_context_var() -> ContextVar[context_api.Context] | None:
    """The ContextVar that holds the current context, when the API keeps it in one (its
    default runtime context, unless `OTEL_PYTHON_CONTEXT` names another)."""
    runtime = getattr(context_api, "_RUNTIME_CONTEXT", None)
    if type(runtime) is ContextVarsRuntimeContext:
        return runtime._current_context
    return None


# The context switch, straight on that ContextVar: the API's `get_current`, `attach` and
# `detach` are two Python frames each around one ContextVar call, and every span of a
# request goes through them two to four times. Fixed at import, as the API fixes its own.
_CONTEXT_VAR = _runtime_context_var()
get_current_context: Callable[[], context_api.Context] = (
    _CONTEXT_VAR.get if _CONTEXT_VAR is not None else context_api.get_current
)
attach_context: Callable[[context_api.Context], object] = (
    _CONTEXT_VAR.set if _CONTEXT_VAR is not None else context_api.attach
)


def detach_context(token: object) -> None:
    """`context_api.detach` in one frame: a token that cannot be reset (made in another
    context, or reset already) is logged, not raised, as the API does."""
    if _CONTEXT_VAR is None:
        context_api.detach(token)  # type: ignore[arg-type]
        return
    try:
        _CONTEXT_VAR.reset(token)  # type: ignore[arg-type]
    except (ValueError, RuntimeError):
        log.exception("Failed to detach context")


# `SpanContext(...)` for ids known to be valid (from the id generator, or parsed and checked
# non-zero), without its validation: a `SpanContext` is the tuple of its six fields, `is_valid`
# last (tests/common/tracing/test_light.py checks that this holds). Given that tuple, it is one
# C call, with no Python frame: every span makes one.
SpanContextFields = tuple[int, int, bool, TraceFlags, TraceState, bool]
new_span_context: Callable[[SpanContextFields], SpanContext] = partial(tuple.__new__, SpanContext)


def current_span(context: context_api.Context | None = None) -> trace_api.Span:
    """`trace.get_current_span`, without its `isinstance` against the abstract `Span` (an ABC
    check: most of the lookup's cost, several times per request) for the two kinds of span
    our own code puts in a context."""
    span = (context if context is not None else get_current_context()).get(_SPAN_KEY)
    kind = type(span)
    if kind is LightSpan or kind is NonRecordingSpan:
        return span  # type: ignore[return-value]
    return trace_api.get_current_span(context)


def with_span(span: trace_api.Span, parent: context_api.Context | None) -> context_api.Context:
    """`trace.set_span_in_context(span, parent)` with one dict copy instead of two."""
    values = dict(get_current_context() if parent is None else parent)
    values[_SPAN_KEY] = span
    return context_api.Context(values)


_PARENT_BASED = frozenset({ParentBased, ParentBasedTraceIdRatio})


def follows_parent(sampler: Sampler) -> bool:
    """Whether `sampler` is the SDK's own `ParentBased` (as `OTEL_TRACES_SAMPLER`'s
    `parentbased_*` make it) with its default delegates: under a valid parent it samples
    exactly when the parent was sampled, and keeps the parent's trace state. A subclass or
    other delegates may decide otherwise: those are asked."""
    if type(sampler) not in _PARENT_BASED:
        return False
    # The delegates are private fields: read with getattr, so that an SDK that renames them
    # makes every span ask its sampler again instead of failing requests.
    return (
        getattr(sampler, "_remote_parent_sampled", None) is ALWAYS_ON
        and getattr(sampler, "_local_parent_sampled", None) is ALWAYS_ON
        and getattr(sampler, "_remote_parent_not_sampled", None) is ALWAYS_OFF
        and getattr(sampler, "_local_parent_not_sampled", None) is ALWAYS_OFF
    )


class SpanSink(Protocol):
    """Where a finished light span goes: the provider's `SpanFanout`, which queues it for
    each target's export thread."""

    def finish(self, span: LightSpan) -> None: ...


class SpanSource(Protocol):
    """What light spans take from the installed provider (`ToolrelayTracerProvider`)."""

    @property
    def resource(self) -> Resource: ...
    @property
    def sampler(self) -> Sampler: ...
    @property
    def id_generator(self) -> IdGenerator: ...
    @property
    def fanout(self) -> SpanSink: ...


class LightEvent:
    """A span event, as the exporter reads the SDK's `Event` (name, attributes, timestamp,
    dropped attributes), in plain slots: the SDK's are properties, its `dropped_attributes`
    an `isinstance` against an ABC, and the export thread reads each one per event."""

    __slots__ = ("attributes", "name", "timestamp")

    dropped_attributes = 0

    def __init__(self, name: str, attributes: Attributes, timestamp: int) -> None:
        self.name = name
        self.attributes = attributes
        self.timestamp = timestamp


class LightSpan(trace_api.Span):
    """A recording span that belongs to one `LightTracer`; ends exactly once. Once ended it
    is itself the finished span the exporter encodes: what `ReadableSpan` has as read-only
    properties are plain slots here, read by the encoder at the cost of an attribute lookup
    rather than a Python call each (fifteen per span). Only this class writes them, and only
    until `end_time` is set."""

    __slots__ = (
        "_finish",
        "attributes",
        "context",
        "end_time",
        "events",
        "instrumentation_scope",
        "kind",
        "name",
        "parent",
        "resource",
        "start_time",
        "status",
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
        self.name = name
        self.context = context
        self.parent = parent
        self.kind = kind
        self.attributes: dict[str, AttributeValue] = attributes
        self.events: Sequence[LightEvent] = ()  # a list from the first event: most have none
        self.status = UNSET_STATUS
        self.resource: Resource = tracer.resource
        self.instrumentation_scope: InstrumentationScope = tracer.scope
        self._finish = tracer.finish
        self.start_time = _time_ns()
        self.end_time: int | None = None

    # The span API.
    def get_span_context(self) -> SpanContext:
        return self.context

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        if self.end_time is None:
            self.attributes.update(attributes)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        if self.end_time is None:
            self.attributes[key] = value

    def add_event(
        self, name: str, attributes: Attributes = None, timestamp: int | None = None
    ) -> None:
        if self.end_time is None:
            event = LightEvent(name, attributes, timestamp or time.time_ns())
            if type(self.events) is list:
                self.events.append(event)
            else:
                self.events = [event]

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        return None  # our spans carry no links

    def update_name(self, name: str) -> None:
        if self.end_time is None:
            self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self.end_time is not None:
            return
        if isinstance(status, Status):
            self.status = status
        else:
            self.status = Status(status, description)

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
        if self.end_time is not None:
            return
        self.end_time = end_time or _time_ns()
        self._finish(self)


class LightTracer:
    """Starts `LightSpan`s with the provider's ids and sampler; they end into its
    fan-out."""

    def __init__(self, provider: SpanSource, name: str) -> None:
        self.provider = provider
        # The instrumentation scope the exporter groups spans by, as the SDK's tracer has it.
        self.scope = InstrumentationScope(name)
        # Fixed once the provider is built; the sampler is read at each start (tests set it).
        self.resource = provider.resource
        self.finish = provider.fanout.finish

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
        return self.start_as_current(name, kind=kind, attributes=attributes, context=context).span

    def start_under(
        self,
        name: str,
        parent: SpanContext,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: dict[str, AttributeValue] | None = None,
        context: context_api.Context | None = None,
    ) -> trace_api.Span:
        """A span whose parent is known as a `SpanContext` (a caller's `traceparent`, read
        straight from its header; `INVALID_SPAN_CONTEXT` for a new trace), without a
        context made for it only to be read back here. `context` is what a sampler that must
        be asked is given: the parent's, or None to make one from `parent` when needed."""
        # A SpanContext is a tuple: unpacked at once rather than through six properties.
        parent_trace, _, _, parent_flags, parent_state, parent_valid = parent
        provider = self.provider
        ids = provider.id_generator
        sampler = provider.sampler
        random_ids = type(ids) is RandomIdGenerator
        if parent_valid:
            trace_id, random = parent_trace, bool(parent_flags & _RANDOM_TRACE_ID)
        elif random_ids:  # its own draw, without its frame; a 0 (invalid) is drawn its way
            trace_id, random = _getrandbits(128) or ids.generate_trace_id(), True
        else:
            trace_id, random = ids.generate_trace_id(), ids.is_trace_id_random()
        # The default samplers decide from the parent alone: no sampler call, no result.
        state = parent_state if parent_valid else DEFAULT_TRACE_STATE
        if sampler is DEFAULT_ON:
            sampled = bool(parent_flags & _SAMPLED) if parent_valid else True
        elif sampler is ALWAYS_ON:
            sampled = True
        elif sampler is ALWAYS_OFF:
            sampled = False
        elif parent_valid and follows_parent(sampler):
            # A parent-based sampler under a parent (every span of a trace but its root, with
            # `parentbased_traceidratio` say): the parent's flag, as the SDK would decide.
            sampled = bool(parent_flags & _SAMPLED)
        else:
            if context is None:
                context = with_span(NonRecordingSpan(parent), EMPTY_CONTEXT)
            decision = sampler.should_sample(context, trace_id, name, kind, attributes)
            sampled = decision.decision is Decision.RECORD_AND_SAMPLE
            state = decision.trace_state or DEFAULT_TRACE_STATE
        span_id = (_getrandbits(64) if random_ids else 0) or ids.generate_span_id()
        context_of_span = new_span_context(
            (trace_id, span_id, False, _FLAGS[sampled, random], state, True)
        )
        if sampled:
            return LightSpan(
                self, name, context_of_span, parent if parent_valid else None, kind,
                attributes or {},
            )  # fmt: skip
        return NonRecordingSpan(context_of_span)

    def start_as_current(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: dict[str, AttributeValue] | None = None,
        context: context_api.Context | None = None,
    ) -> CurrentSpan:
        if context is None:
            context = get_current_context()
        # a light parent's own context is a slot: read without `current_span` and a call
        parent_span = context.get(_SPAN_KEY)
        parent = (
            parent_span.context if type(parent_span) is LightSpan
            else current_span(context).get_span_context()
        )  # fmt: skip
        span = self.start_under(name, parent, kind=kind, attributes=attributes, context=context)
        return CurrentSpan(span, context)

    def start_leaf(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: dict[str, AttributeValue] | None = None,
    ) -> LeafSpan:
        """A `with` for a span that has no spans inside it and sends no trace context on (a
        router attempt): a child of the current span, never made current itself, so it
        costs no context switch."""
        parent = get_current_context().get(_SPAN_KEY)
        if type(parent) is LightSpan:
            sampler = self.provider.sampler
            # A light span is a sampled one: under the samplers that follow their parent
            # (the default among them) its child is sampled with its flags and trace state,
            # as `start_under` would decide after its lookups.
            if sampler is DEFAULT_ON or sampler is ALWAYS_ON or follows_parent(sampler):
                of_parent = parent.context
                trace_id, _, _, flags, state, _ = of_parent
                ids = self.provider.id_generator
                span_id = (
                    _getrandbits(64) if type(ids) is RandomIdGenerator else 0
                ) or ids.generate_span_id()
                own = new_span_context((trace_id, span_id, False, flags, state, True))
                return LeafSpan(LightSpan(self, name, own, of_parent, kind, attributes or {}))
        return LeafSpan(self.start(name, kind=kind, attributes=attributes))


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
        # `with_span`, written out: a frame less for every span made current
        parent = self._parent_context
        values = dict(get_current_context() if parent is None else parent)
        values[_SPAN_KEY] = self.span
        self._token = attach_context(context_api.Context(values))
        return self.span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        detach_context(self._token)
        if exc is None:  # the common way out: straight to the end
            self.span.end()
        else:
            end_span(self.span, exc)


class LeafSpan:
    """`with` around a span that is not made current: it ends on the way out, an exception
    leaves it marked as an error (and recorded), then propagates."""

    __slots__ = ("span",)

    def __init__(self, span: trace_api.Span) -> None:
        self.span = span

    def __enter__(self) -> trace_api.Span:
        return self.span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.span.end()
        else:
            end_span(self.span, exc)


def end_span(span: trace_api.Span, exc: BaseException | None) -> None:
    if exc is not None and span.is_recording():
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
    span.end()


def light_tracer(name: str) -> LightTracer | None:
    """This process's light tracer for `name`, or None when tracing is off."""
    provider = trace_api.get_tracer_provider()
    light = getattr(provider, "light_tracer", None)
    return light(name) if light is not None else None
