"""Once-per-window alerts (the soft budget's): which process sends one. A process remembers
what it has alerted on; `LocalAlertOnce` lets every process alert, `RedisAlertOnce`
(`redis_alert_once.py`, with Redis) lets only the first of all replicas and workers do so."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class AlertOnce(Protocol):
    async def claim(self, name: str, expires_at: datetime | None) -> bool:
        """True for the one caller that sends alert `name`; kept until `expires_at`
        (None: until released)."""
        ...

    async def release(self, name: str) -> None:
        """The alert may be sent again (what it warned of was undone, e.g. spend reset)."""
        ...


class LocalAlertOnce:
    async def claim(self, name: str, expires_at: datetime | None) -> bool:
        return True

    async def release(self, name: str) -> None:
        return None
