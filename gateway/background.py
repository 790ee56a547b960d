"""Background tasks of the gateway's long-lived services (Redis listeners, pollers)."""

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
