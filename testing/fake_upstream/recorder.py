"""Every request the fake upstream received, in a bounded ring buffer.

Headers stay as raw bytes until someone reads them, so recording costs the hot path one
deque append.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    raw_headers: list[tuple[bytes, bytes]]
    body: Any  # the parsed JSON body; None when there was none or it was not JSON
    received_at: float
    status: int | None = None  # set when the response starts
    completed: bool = False  # set when the response body has been fully sent
    sequence: int = 0

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in self.raw_headers}

    @property
    def model(self) -> str | None:
        """The body's `model`, else Gemini's `/models/{model}:method` path segment."""
        if isinstance(self.body, dict):
            model = self.body.get("model")
            if isinstance(model, str):
                return model
        _, found, rest = self.path.partition("/models/")
        name, colon, _ = rest.partition(":")
        return name if found and colon and name else None

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "received_at": self.received_at,
            "status": self.status,
            "completed": self.completed,
        }


@dataclass
class Recorder:
    limit: int = 10_000
    _entries: deque[RecordedRequest] = field(init=False)
    _sequence: int = field(init=False, default=0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._entries = deque(maxlen=self.limit)

    def add(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._sequence += 1
            entry.sequence = self._sequence
            self._entries.append(entry)

    def requests(self, model: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            entries = list(self._entries)
        if model is None:
            return entries
        return [entry for entry in entries if entry.model == model]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
