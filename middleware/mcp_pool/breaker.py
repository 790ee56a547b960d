"""A per-server circuit breaker: closed, open for a cooldown after N straight failures,
then half-open (one trial call decides).

Only failures of the server or the connection count (the caller decides which); a tool
that refuses bad arguments says nothing about the server. A trial call that ends with
neither verdict (cancelled: the client went away) hands the trial back with `abandon`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
    threshold: int
    cooldown: float
    failures: int = 0
    opened_at: float | None = None
    _trial_in_flight: bool = field(default=False, repr=False)

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if time.monotonic() - self.opened_at >= self.cooldown:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self.failures += 1
        self._trial_in_flight = False
        if self.failures >= self.threshold:
            self.opened_at = time.monotonic()

    def abandon(self) -> None:
        """An admitted call ended without a verdict: let the next call be the trial."""
        self._trial_in_flight = False

    def reset(self) -> None:
        self.record_success()
