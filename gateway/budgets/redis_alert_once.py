"""`AlertOnce` through Redis (`SET NX`), so one alert goes out for all replicas and workers.
Imported only when Redis is configured. While Redis is away each process alerts on its own:
an alert sent twice beats one never sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from gateway.shared_redis import CONNECTION_ERRORS, RedisCircuit

KEPT_AFTER_WINDOW = timedelta(days=1)


@dataclass
class RedisAlertOnce:
    client: Redis
    circuit: RedisCircuit
    namespace: str

    def _key(self, name: str) -> str:
        return f"{self.namespace}:alerted:{name}"

    async def claim(self, name: str, expires_at: datetime | None) -> bool:
        if not self.circuit.available:
            return True
        expiry = None
        if expires_at is not None:
            expiry = int((expires_at + KEPT_AFTER_WINDOW).astimezone(UTC).timestamp())
        try:
            return bool(await self.client.set(self._key(name), b"1", nx=True, exat=expiry))
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="alert claim")
            return True

    async def release(self, name: str) -> None:
        if not self.circuit.available:
            return
        try:
            await self.client.delete(self._key(name))
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="alert release")
