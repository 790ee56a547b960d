"""OTLP/HTTP (protobuf) span export, with the protobuf written directly from the SDK's spans.

The SDK's exporter first builds one protobuf object per span, attribute and value, then
serialises them: about as much CPU per span as creating the span itself, in the same process
as the requests. Writing the wire format straight from `ReadableSpan` gives the same bytes
(field for field what `opentelemetry-exporter-otlp-proto-common` sends, checked in the
tests) for a fraction of that. Resource and scope blocks and attribute keys are encoded once
per encoder and reused. The export thread encodes a batch's spans one by one
(`encode_span`, see `common.tracing.export`); the request is then a join of their bytes
(`export_request`).

Wire format: https://protobuf.dev/programming-guides/encoding/; the messages are
`opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest` and what it holds.
"""

from __future__ import annotations

import email.utils
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.util.types import Attributes

from common.tracing.light import UNSET_STATUS

_FIXED64 = struct.Struct("<Q")
# Span fields 1 and 2 (trace id as two big-endian halves, span id), field 4 (parent span id)
# and fields 6 to 8 (kind, start and end time): one `pack` each instead of a call per field.
_IDS = struct.Struct(">2sQQ2sQ")
_PARENT = struct.Struct(">2sQ")
_KIND_AND_TIMES = struct.Struct("<BBBQBQ")
_HIGH = 64
_FIXED32 = struct.Struct("<I")
_DOUBLE = struct.Struct("<d")
_INT64_MASK = (1 << 64) - 1
_UNSET = StatusCode.UNSET
# SpanFlags: the parent's remoteness is known (always), and the parent is remote.
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
_VARINTS = [bytes((n,)) for n in range(128)]
_FLAGS_LOCAL = b"\x85\x01" + _FIXED32.pack(_HAS_IS_REMOTE)  # Span field 16, fixed32
_FLAGS_REMOTE = b"\x85\x01" + _FIXED32.pack(_HAS_IS_REMOTE | _IS_REMOTE)
_STATUS_UNSET = b"\x7a\x00"  # Span field 15: an empty Status
_MAX_CACHED_VALUE = 64  # longer strings are content: rarely seen twice
# A key whose values keep changing (a request id, a response id, token counts) stops being
# cached once it has this many: its values would only push out the ones that repeat.
_MAX_VALUES_PER_KEY = 64
_Tables = dict[str, dict[Any, bytes]]  # an attribute cache's tables: key, then value


class ExportableEvent(Protocol):
    """What the encoder reads from a span event: the SDK's `Event` and our `LightEvent`."""

    @property
    def name(self) -> str: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def attributes(self) -> Attributes: ...
    @property
    def dropped_attributes(self) -> int: ...


class ExportableSpan(Protocol):
    """What the encoder reads from a finished span: the SDK's `ReadableSpan` and our
    `LightSpan` both have it, so light spans are queued and encoded as they are."""

    @property
    def name(self) -> str: ...
    @property
    def context(self) -> SpanContext | None: ...
    @property
    def parent(self) -> SpanContext | None: ...
    @property
    def kind(self) -> SpanKind: ...
    @property
    def start_time(self) -> int | None: ...
    @property
    def end_time(self) -> int | None: ...
    @property
    def attributes(self) -> Attributes: ...
    @property
    def dropped_attributes(self) -> int: ...
    @property
    def events(self) -> Sequence[ExportableEvent]: ...
    @property
    def dropped_events(self) -> int: ...
    @property
    def links(self) -> Sequence[Link]: ...
    @property
    def dropped_links(self) -> int: ...
    @property
    def status(self) -> Status: ...
    @property
    def resource(self) -> Resource: ...
    @property
    def instrumentation_scope(self) -> InstrumentationScope | None: ...


# A resource's or a scope's encoded block: the message's fields before the spans, and after.
EncodedBlock = tuple[bytes, bytes]
# A finished span, encoded, with the blocks it is sent under. Batches group spans by the
# identity of those blocks (`export_request`).
EncodedSpan = tuple[EncodedBlock, EncodedBlock, bytes]


def _varint(value: int) -> bytes:
    if value < 128:
        return _VARINTS[value]
    if value < 16384:  # token counts, lengths: two bytes, without the loop
        return bytes((value & 0x7F | 0x80, value >> 7))
    out = bytearray()
    while value > 127:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _framed(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field whose tag is already encoded."""
    size = len(payload)
    return tag + (_VARINTS[size] if size < 128 else _varint(size)) + payload


def _len_field(field: int, payload: bytes) -> bytes:
    return _framed(_tag(field, 2), payload)


def _string_field(field: int, text: str) -> bytes:
    return _len_field(field, text.encode("utf-8"))


def _any_value(value: Any) -> bytes:
    """An `AnyValue` message. Its fields are a oneof, so defaults (0, "", False) are sent."""
    kind = type(value)
    # The exact types our spans carry first: `isinstance` against the abstract `Sequence`
    # below is an ABC check, the slowest line here.
    if kind is str:
        return _framed(b"\x0a", value.encode("utf-8"))
    if kind is int:
        return b"\x18" + _varint(value & _INT64_MASK)
    if kind is list or kind is tuple:
        return _len_field(5, b"".join(_framed(b"\x0a", _any_value(v)) for v in value))
    if isinstance(value, str):
        return _framed(b"\x0a", value.encode("utf-8"))
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, int):
        return b"\x18" + _varint(value & _INT64_MASK)
    if isinstance(value, float):
        return b"\x21" + _DOUBLE.pack(value)
    if isinstance(value, bytes):
        return _len_field(7, value)
    if isinstance(value, Sequence):
        return _len_field(5, b"".join(_framed(b"\x0a", _any_value(v)) for v in value))
    if isinstance(value, Mapping):
        return _len_field(
            6, b"".join(_len_field(1, _key_value(str(k), v)) for k, v in value.items())
        )
    if value is None:
        return b""
    raise TypeError(f"attribute value of type {type(value).__name__} has no OTLP encoding")


def _key_value(key: str, value: Any) -> bytes:
    return _string_field(1, key) + _framed(b"\x12", _any_value(value))


def _flags(context: SpanContext | None) -> int:
    return _HAS_IS_REMOTE | (_IS_REMOTE if context is not None and context.is_remote else 0)


class OtlpEncoder:
    """Writes `ExportTraceServiceRequest` bytes. Keeps what repeats from span to span already
    encoded: the resource and scope blocks, attribute keys, and whole attributes whose value
    is a short scalar (the operation, the model, the provider, ...): most of a span's bytes
    are then one dict lookup each. The caches are bounded and start over when full."""

    def __init__(
        self, max_keys: int = 1024, max_scopes: int = 256, max_attributes: int = 4096
    ) -> None:
        self._keys: dict[str, bytes] = {}
        self._max_keys = max_keys
        self._max_scopes = max_scopes
        # Whole encoded attributes whose value is a short str, an int or a one-str list (what
        # repeats: the operation, the model, the provider, the path, the status, the finish
        # reason), by the field's tag, then the value's type (str, int, list: True == 1, so
        # never one table for both), then the key, then the value. Nested dicts: a cached
        # attribute costs two lookups and builds no tuple.
        self._attribute_cache: dict[bytes, tuple[_Tables, _Tables, _Tables]] = {}
        self._cached_attributes = 0
        self._max_attributes = max_attributes
        # The table of a key whose values keep changing: always empty, never written to (a
        # plain dict, as its lookups are on the hot path; an instance's, not the module's).
        self._uncached: dict[Any, bytes] = {}
        self._resources: dict[int, tuple[Resource, EncodedBlock]] = {}
        self._scopes: dict[int, tuple[InstrumentationScope | None, EncodedBlock]] = {}
        # Both blocks of a span, by its scope's identity (one lookup per span, not two).
        self._blocks: dict[int, tuple[InstrumentationScope | None, Resource, EncodedBlock,
                                      EncodedBlock]] = {}  # fmt: skip
        # Span and event names as encoded fields: a service's names repeat ("POST /v1/...",
        # "chat gpt-4o", "iteration"); new ones stop being kept once `max_keys` are.
        self._names: dict[str, bytes] = {}
        self._event_names: dict[str, bytes] = {}

    def encode(self, spans: Sequence[ExportableSpan]) -> bytes:
        """One request's bytes for `spans` (what `encode_span` and `export_request` do for
        spans one at a time)."""
        return export_request([self.encode_span(span) for span in spans])

    def encode_span(self, span: ExportableSpan) -> EncodedSpan:
        """One finished span, with its resource's and scope's blocks. The caches start over
        when full: an encoded span holds its blocks itself, so nothing refers to them by
        key. Safe from any thread (dict lookups and stores only)."""
        if self._cached_attributes > self._max_attributes:
            self._attribute_cache.clear()
            self._cached_attributes = 0
        resource, scope = span.resource, span.instrumentation_scope
        blocks = self._blocks.get(id(scope))
        if blocks is None or blocks[0] is not scope or blocks[1] is not resource:
            blocks = (scope, resource, self._resource_block(resource), self._scope_block(scope))
            if len(self._blocks) >= self._max_scopes:
                self._blocks.clear()
            self._blocks[id(scope)] = blocks  # the entry keeps the id its own
        return blocks[2], blocks[3], _framed(b"\x12", self._span(span))

    def _resource_block(self, resource: Resource) -> EncodedBlock:
        # by identity: `Resource.__hash__` serialises its attributes to JSON
        known = self._resources.get(id(resource))
        if known is not None and known[0] is resource:
            return known[1]
        block = (
            _len_field(1, self._attributes(b"\x0a", resource.attributes)),
            _string_field(3, resource.schema_url) if resource.schema_url else b"",
        )
        if len(self._resources) >= self._max_scopes:
            self._resources.clear()
        self._resources[id(resource)] = (resource, block)  # the entry keeps the id its own
        return block

    def _scope_block(self, scope: InstrumentationScope | None) -> EncodedBlock:
        known = self._scopes.get(id(scope))
        if known is not None and known[0] is scope:
            return known[1]
        body = b""
        if scope is not None:
            body = _string_field(1, scope.name) if scope.name else b""
            if scope.version:
                body += _string_field(2, scope.version)
            body += self._attributes(b"\x1a", scope.attributes)
        schema = scope.schema_url if scope is not None else ""
        block = (_len_field(1, body), _string_field(3, schema) if schema else b"")
        if len(self._scopes) >= self._max_scopes:
            self._scopes.clear()
        self._scopes[id(scope)] = (scope, block)
        return block

    def _key(self, key: str) -> bytes:
        encoded = self._keys.get(key)
        if encoded is None:
            encoded = _string_field(1, key)
            if len(self._keys) < self._max_keys:
                self._keys[key] = encoded
        return encoded

    def _name(self, names: dict[str, bytes], tag: bytes, name: str) -> bytes:
        encoded = _framed(tag, name.encode("utf-8"))
        if len(names) < self._max_keys:
            names[name] = encoded
        return encoded

    def _attributes(self, tag: bytes, attributes: Attributes) -> bytes:
        """Every attribute as a `KeyValue` in the field whose encoded tag is `tag`. A short
        str or an int value (what repeats: the operation, the model, the provider, the
        path, the status, small counts) is looked up whole; others are written inline."""
        if not attributes:
            return b""
        tables = self._attribute_cache.get(tag)
        if tables is None:
            tables = self._attribute_cache[tag] = ({}, {}, {})
        strings, ints, lists = tables
        keys = self._keys
        parts = []
        values: Mapping[str, Any] = attributes
        for key, value in values.items():
            kind = type(value)
            if kind is str:
                table = strings.get(key)
                if table is not None:
                    encoded = table.get(value)
                    if encoded is not None:
                        parts.append(encoded)
                        continue
                # KeyValue{key, value: AnyValue{string_value}}, framed in `tag`
                data = value.encode("utf-8")
                size = len(data)
                if size < 126:
                    key_field = keys.get(key) or self._key(key)
                    body = key_field + b"\x12" + _VARINTS[size + 2] + b"\x0a" + _VARINTS[size]
                    body += data
                    encoded = _framed(tag, body)
                else:
                    encoded = _framed(tag, self._key(key) + _framed(b"\x12", _any_value(value)))
                if size <= _MAX_CACHED_VALUE:
                    self._remember(strings, table, key, value, encoded)
            elif kind is int:
                table = ints.get(key)
                if table is not None:
                    encoded = table.get(value)
                    if encoded is not None:
                        parts.append(encoded)
                        continue
                number = _varint(value & _INT64_MASK) if value else b"\x00"
                key_field = keys.get(key) or self._key(key)
                # KeyValue{key, value: AnyValue{int_value}}: the AnyValue is at most 11 bytes
                encoded = _framed(
                    tag, key_field + b"\x12" + _VARINTS[len(number) + 1] + b"\x18" + number
                )
                self._remember(ints, table, key, value, encoded)
            elif kind is list and len(value) == 1 and type(value[0]) is str:
                # a one-string list (the finish reasons) repeats as a string does
                table = lists.get(key)
                encoded = table.get(value[0]) if table is not None else None
                if encoded is None:
                    encoded = _framed(tag, self._key(key) + _framed(b"\x12", _any_value(value)))
                    if len(value[0]) <= _MAX_CACHED_VALUE:
                        self._remember(lists, table, key, value[0], encoded)
            else:
                encoded = _framed(tag, self._key(key) + _framed(b"\x12", _any_value(value)))
            parts.append(encoded)
        return b"".join(parts)

    def _remember(
        self,
        tables: _Tables,
        table: dict[Any, bytes] | None,
        key: str,
        value: object,
        encoded: bytes,
    ) -> None:
        """Keep `encoded` for `value` in `key`'s table, unless the key's values turned out
        not to repeat: past `_MAX_VALUES_PER_KEY` of them it is not cached any more."""
        if table is None:
            table = tables[key] = {}
        elif table is self._uncached:
            return
        if len(table) >= _MAX_VALUES_PER_KEY:
            tables[key] = self._uncached
            return
        table[value] = encoded
        self._cached_attributes += 1

    def _span(self, span: ExportableSpan) -> bytes:
        context = span.context
        assert context is not None  # every SDK span has one
        # A SpanContext is a tuple: unpacked at once rather than through its properties.
        trace_id, span_id, _, _, trace_state, _ = context
        parts = [
            _IDS.pack(
                b"\x0a\x10", trace_id >> _HIGH, trace_id & _INT64_MASK, b"\x12\x08", span_id
            )
        ]  # fmt: skip
        if trace_state:
            state = ",".join(f"{k}={v}" for k, v in trace_state.items())
            parts.append(_string_field(3, state))
        parent = span.parent
        parent_remote = False
        if parent is not None:
            _, parent_span_id, parent_remote, _, _, _ = parent
            parts.append(_PARENT.pack(b"\x22\x08", parent_span_id))
        name = span.name
        if name:
            parts.append(self._names.get(name) or self._name(self._names, b"\x2a", name))
        parts.append(
            _KIND_AND_TIMES.pack(
                0x30, span.kind._value_ + 1,  # OTLP's kinds start at 1
                0x39, span.start_time or 0, 0x41, span.end_time or 0,
            )
        )  # fmt: skip
        parts.append(self._attributes(b"\x4a", span.attributes))
        if span.dropped_attributes:
            parts.append(b"\x50" + _varint(span.dropped_attributes))
        for event in span.events:
            names = self._event_names
            name_field = names.get(event.name) or self._name(names, b"\x12", event.name)
            body = b"\x09" + _FIXED64.pack(event.timestamp) + name_field
            body += self._attributes(b"\x1a", event.attributes)
            if event.dropped_attributes:
                body += b"\x20" + _varint(event.dropped_attributes)
            parts.append(_framed(b"\x5a", body))
        if span.dropped_events:
            parts.append(b"\x60" + _varint(span.dropped_events))
        for link in span.links:
            body = b"\x0a\x10" + link.context.trace_id.to_bytes(16, "big")
            body += b"\x12\x08" + link.context.span_id.to_bytes(8, "big")
            body += self._attributes(b"\x22", link.attributes)
            if link.dropped_attributes:
                body += b"\x28" + _varint(link.dropped_attributes)
            body += b"\x35" + _FIXED32.pack(_flags(link.context))
            parts.append(_framed(b"\x6a", body))
        if span.dropped_links:
            parts.append(b"\x70" + _varint(span.dropped_links))
        status = span.status
        # A light span's status stays the shared `UNSET_STATUS` unless something sets one.
        if status is UNSET_STATUS or (
            (code := status.status_code) is _UNSET and not status.description
        ):
            parts.append(_STATUS_UNSET)
        else:
            body = _string_field(2, status.description) if status.description else b""
            if code is not _UNSET:
                body += b"\x18" + _VARINTS[code.value]
            parts.append(_framed(b"\x7a", body))
        parts.append(_FLAGS_REMOTE if parent_remote else _FLAGS_LOCAL)
        return b"".join(parts)


def export_request(spans: Sequence[EncodedSpan]) -> bytes:
    """An `ExportTraceServiceRequest`: the spans grouped by resource, then by scope, in the
    order they came."""
    grouped: dict[int, tuple[EncodedBlock, dict[int, tuple[EncodedBlock, list[bytes]]]]] = {}
    for resource, scope, span in spans:
        by_resource = grouped.get(id(resource))
        if by_resource is None:
            by_resource = grouped[id(resource)] = (resource, {})
        by_scope = by_resource[1].get(id(scope))
        if by_scope is None:
            by_scope = by_resource[1][id(scope)] = (scope, [])
        by_scope[1].append(span)
    out = []
    for (resource_head, resource_tail), scopes in grouped.values():
        body = [resource_head]
        for (scope_head, scope_tail), encoded in scopes.values():
            body.append(_framed(b"\x12", scope_head + b"".join(encoded) + scope_tail))
        body.append(resource_tail)
        out.append(_framed(b"\x0a", b"".join(body)))
    return b"".join(out)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What one attempt to send a batch came to. `retry` says whether trying again may
    help; `retry_after` is the receiver's own wait in seconds (`Retry-After`), if it gave
    one; `detail` names the answer or error for the log."""

    ok: bool
    retry: bool = False
    retry_after: float | None = None
    detail: str = ""


RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})  # OTLP/HTTP: "retryable response codes"


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number of seconds or an HTTP date; None when absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class OtlpHttpSpanExporter:
    """POSTs each batch to an OTLP/HTTP traces endpoint. Runs on the export thread only, so a
    slow receiver costs that thread its `timeout`, never a request. `send` makes one attempt
    and says whether another may succeed; the processor (`common.tracing.export`) decides
    when to make it. The spans come encoded (at their end); an attempt joins their bytes."""

    def __init__(self, endpoint: str, headers: Mapping[str, str], timeout: float) -> None:
        self.endpoint = endpoint
        self._client = httpx.Client(
            timeout=timeout, headers={**headers, "content-type": "application/x-protobuf"}
        )

    def send(self, spans: Sequence[EncodedSpan]) -> SendOutcome:
        try:
            response = self._client.post(self.endpoint, content=export_request(spans))
        except httpx.TransportError as exc:  # no connection, timeout, reset: try later
            return SendOutcome(ok=False, retry=True, detail=f"{type(exc).__name__}: {exc}")
        if response.is_success:
            return SendOutcome(ok=True)
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            return SendOutcome(
                ok=False, retry=True, detail=f"HTTP {status}",
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )  # fmt: skip
        return SendOutcome(ok=False, detail=f"HTTP {status}")

    def export(self, spans: Sequence[ExportableSpan]) -> SpanExportResult:
        """One attempt, as the SDK's `SpanExporter` interface has it."""
        outcome = self.send([OtlpEncoder().encode_span(span) for span in spans])
        return SpanExportResult.SUCCESS if outcome.ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self._client.close()
