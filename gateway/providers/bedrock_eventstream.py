"""AWS event-stream framing (`application/vnd.amazon.eventstream`), decoded by botocore.

Each binary message carries headers (`:message-type` event | exception | error, and
`:event-type`, `:exception-type` or `:error-code`) and a JSON payload. botocore's
`EventStreamBuffer` checks both CRCs and yields messages as their bytes complete, however the
HTTP body was cut into chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from botocore.eventstream import EventStreamBuffer, ParserError

from gateway.errors import BadGatewayError
from gateway.providers.errors import malformed_response


@dataclass(frozen=True, slots=True)
class StreamMessage:
    message_type: str  # "event", "exception" (a modelled error) or "error"
    name: str  # the event type, the exception type, or the error code
    payload: bytes
    error_message: str | None = None  # only "error" messages carry it, in a header


class EventStreamDecoder:
    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._buffer = EventStreamBuffer()
        self._pending = 0

    def feed(self, data: bytes) -> Iterator[StreamMessage]:
        self._buffer.add_data(data)
        self._pending += len(data)
        try:
            for message in self._buffer:
                # botocore-stubs type `prelude` and `headers` as int; they are objects
                parsed = cast(Any, message)
                self._pending -= int(parsed.prelude.total_length)
                yield _message(parsed.headers, message.payload)
        except ParserError as exc:
            raise self._malformed(f"bad event-stream frame ({exc})") from exc

    def close(self) -> None:
        """At the end of the body: bytes left over are a frame the upstream never finished."""
        if self._pending:
            raise self._malformed(f"stream ended inside a frame ({self._pending} bytes)")

    def _malformed(self, what: str) -> BadGatewayError:
        return malformed_response(self._provider, what)


def _message(headers: dict[str, Any], payload: bytes) -> StreamMessage:
    message_type = str(headers.get(":message-type") or "event")
    if message_type == "exception":
        return StreamMessage(message_type, str(headers.get(":exception-type") or ""), payload)
    if message_type == "error":
        code = str(headers.get(":error-code") or "")
        text = headers.get(":error-message")
        return StreamMessage(message_type, code, payload, str(text) if text else None)
    return StreamMessage(message_type, str(headers.get(":event-type") or ""), payload)
