"""Failed sign-ins, counted per client: after `max_failures` within `window` seconds the
client is refused until the oldest failure ages out. Kept per gateway process (a guesser
spread over N replicas gets N times the budget; it is still a handful per minute)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    max_failures: int = 5
    window: float = 300.0
    max_clients: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict, init=False)

    def retry_after(self, client: str) -> float | None:
        """Seconds until `client` may try again, or None when it may try now."""
        failures = self._recent(client)
        if len(failures) < self.max_failures:
            return None
        return max(1.0, failures[0] + self.window - self.clock())

    def failed(self, client: str) -> None:
        self._recent(client).append(self.clock())
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures
