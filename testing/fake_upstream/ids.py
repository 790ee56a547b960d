"""Response and tool-call ids: unique within a process and unlikely to clash across processes."""

from __future__ import annotations

import itertools
import secrets


class IdSource:
    def __init__(self) -> None:
        self._prefix = secrets.token_hex(6)
        self._counter = itertools.count(1)

    def next(self, kind: str) -> str:
        return f"{kind}-{self._prefix}{next(self._counter):012x}"

    def tool_call(self) -> str:
        return f"call_{self._prefix}{next(self._counter):012x}"
