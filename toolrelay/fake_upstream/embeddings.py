"""Deterministic embedding vectors: the same text and size always give the same unit vector."""

from __future__ import annotations

import array
import base64
import hashlib
import math
import sys

DEFAULT_DIMENSIONS = 1536
MAX_DIMENSIONS = 8192


def vector(text: str, dimensions: int) -> list[float]:
    """A unit-length vector derived from a hash of the text, so equal inputs embed equally."""
    raw = hashlib.shake_256(f"{dimensions}:{text}".encode()).digest(dimensions * 2)
    values = array.array("h", raw)  # signed 16-bit ints, spread evenly around zero
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def as_base64(values: list[float]) -> str:
    """OpenAI's `encoding_format: base64`: little-endian float32s, base64-encoded."""
    packed = array.array("f", values)
    if sys.byteorder == "big":  # pragma: no cover - the wire format is little-endian
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode()
