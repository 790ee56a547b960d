"""Background tasks of the gateway's long-lived services (Redis listeners, pollers, the spend
writers).

Tasks that write to the database are asked to stop and let finish (`sleep_or_stop`,
`finish_or_cancel`) rather than cancelled: a cancellation that lands while SQLite runs a
statement leaves that connection holding the write lock, and every later write waits out the
busy timeout and fails (tests/gateway/spend/test_writer.py reproduces it).
"""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    """Cancel a task and wait for it to end. redis-py can swallow a cancellation that lands
    inside a command (it cleans up the connection and carries on), which would leave the task
    running and the waiter hanging: cancel again until it ends."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()


async def finish_or_cancel(task: asyncio.Task[None], seconds: float) -> None:
    """Wait up to `seconds` for a task that was asked to stop, then cancel it if it is still
    running (a hung database must not hold up the shutdown)."""
    await asyncio.wait({task}, timeout=max(seconds, 0.0))
    await cancel_and_wait(task)


async def sleep_or_stop(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`, or until `stopping` is set; returns whether it is.

    `asyncio.timeout`, not `wait_for`: on Python 3.11, `wait_for` returns the finished wait
    when a cancellation lands just as the wait ends, and the cancellation is lost."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopping.wait()
    return stopping.is_set()
