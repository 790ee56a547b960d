"""An open-loop load generator: requests go out on a fixed schedule, whatever the server does.

Closed-loop tools (wrk, hey) wait for a reply before sending the next request, so a slow
server silently lowers the offered load ("coordinated omission"). Here request i is due at
`start + i / rate`, and its latency is measured from that *scheduled* time, so queueing
behind a stalled server shows up in the percentiles. The generator also reports how late it
itself sent each request: if that lag is large, the generator could not keep up and the
figure says so instead of blaming the server.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import cast

from bench.rawhttp import ProtocolError, ResponseParser
from bench.stats import percentile

# The generator "kept up" if 99% of requests left within this long of their scheduled time.
MAX_SEND_LAG_S = 0.002


def schedule(rate: float, duration: float) -> list[float]:
    """Send offsets (seconds from start) for a constant `rate` over `duration` seconds."""
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
    count = round(rate * duration)
    return [i / rate for i in range(count)]


@dataclass
class OpenLoopResult:
    rate: float
    duration: float
    latencies: list[float] = field(default_factory=list)  # seconds, from scheduled send
    send_lags: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def sent(self) -> int:
        return len(self.send_lags)

    @property
    def generator_kept_up(self) -> bool:
        return bool(self.send_lags) and percentile(self.send_lags, 99) <= MAX_SEND_LAG_S

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0


class _Connection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self._parser = ResponseParser()
        self._waiter: asyncio.Future[ResponseParser] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio.Transport
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed(data)
        except ProtocolError as exc:
            self._fail(exc)
            return
        if self._parser.done and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(self._parser)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or ProtocolError("connection closed"))

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    async def request(self, raw: bytes) -> ResponseParser:
        assert self.transport is not None
        self._parser = ResponseParser()
        self._waiter = self._loop.create_future()
        self.transport.write(raw)
        return await self._waiter


class _Pool:
    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port = host, port
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(limit)
        self._all: list[_Connection] = []

    async def request(self, raw: bytes) -> ResponseParser:
        async with self._slots:
            conn = self._idle.pop() if self._idle else await self._open()
            try:
                response = await conn.request(raw)
            except BaseException:
                if conn.transport is not None:
                    conn.transport.close()
                raise
            if response.keep_alive and not conn.closed:
                self._idle.append(conn)
            elif conn.transport is not None:
                conn.transport.close()
            return response

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: _Connection(loop), self.host, self.port)
        self._all.append(conn)
        return conn

    def close(self) -> None:
        for conn in self._all:
            if conn.transport is not None:
                conn.transport.close()


async def run_open_loop(
    host: str,
    port: int,
    raw_request: bytes,
    *,
    rate: float,
    duration: float,
    max_connections: int = 512,
    request_timeout: float = 10.0,
) -> OpenLoopResult:
    result = OpenLoopResult(rate=rate, duration=duration)
    pool = _Pool(host, port, max_connections)
    offsets = schedule(rate, duration)
    tasks: list[asyncio.Task[None]] = []

    async def one(due: float) -> None:
        result.send_lags.append(time.perf_counter() - due)
        try:
            response = await asyncio.wait_for(pool.request(raw_request), request_timeout)
        except (OSError, ProtocolError, TimeoutError):
            result.errors += 1
            return
        result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
        if 200 <= response.status < 300:
            result.latencies.append(time.perf_counter() - due)
        else:
            result.errors += 1

    start = time.perf_counter() + 0.05
    for offset in offsets:
        due = start + offset
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
            # uvloop's timers have millisecond resolution and may fire a little early
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait + 0.0005)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    pool.close()
    return result


def run(
    host: str, port: int, raw_request: bytes, *, rate: float, duration: float
) -> OpenLoopResult:
    """Run on uvloop (cheaper per request than asyncio's default loop) in this thread."""
    import uvloop

    return uvloop.run(run_open_loop(host, port, raw_request, rate=rate, duration=duration))
