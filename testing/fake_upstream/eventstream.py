"""AWS event-stream framing (`application/vnd.amazon.eventstream`), the encoding side.

One message is: a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes), the
headers, the payload, and a CRC32 of everything before it. Each header is a 1-byte name length,
the name, a 1-byte value type (7: a string), a 2-byte value length and the value. Big-endian
throughout. botocore only decodes, so the fake encodes with this; the tests check every frame
against botocore's `EventStreamBuffer` (`tests/testing/fake_upstream/test_eventstream.py`).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING, len(raw_value))
        + raw_value
    )


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    encoded_headers = b"".join(_header(name, value) for name, value in headers.items())
    total = _PRELUDE.size + _CRC.size + len(encoded_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(encoded_headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude))
    body = head + encoded_headers + payload
    return body + _CRC.pack(zlib.crc32(body))


def event(event_type: str, payload: bytes) -> bytes:
    return encode_message(
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
        payload,
    )


def exception(exception_type: str, payload: bytes) -> bytes:
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        payload,
    )
