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


class EmbeddingCache:
    """Benchmarks embed the same few texts over and over; compute each vector once.

    Bounded: when full it starts over, which is cheap and keeps memory flat.
    """

    def __init__(self, limit: int = 1024) -> None:
        self._limit = limit
        self._encoded: dict[tuple[str, int, str], list[float] | str] = {}

    def get(self, text: str, dimensions: int, encoding: str) -> list[float] | str:
        key = (text, dimensions, encoding)
        found = self._encoded.get(key)
        if found is None:
            if len(self._encoded) >= self._limit:
                self._encoded.clear()
            values = vector(text, dimensions)
            found = as_base64(values) if encoding == "base64" else values
            self._encoded[key] = found
        return found
