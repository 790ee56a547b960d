"""Run a stdio MCP server as a child process and speak JSON-RPC lines with it.

Like the SDK's `stdio_client`, but the child leads its own process group and the whole
group is always signalled on the way out: npm/uv launchers spawn grandchildren, and one
that outlives its parent would otherwise leak.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import anyio
import anyio.abc
import mcp_types as types
import structlog
from anyio.streams.text import TextReceiveStream
from mcp.client.stdio import get_default_environment
from mcp.shared.message import SessionMessage

logger = structlog.get_logger(__name__)

STOP_GRACE_S = 2.0  # after stdin closes, before SIGTERM
KILL_GRACE_S = 2.0  # after SIGTERM, before SIGKILL


@dataclass(frozen=True)
class ChildSpec:
    """How to start the stdio server: `command args...` with `env` over a minimal environment."""

    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None

    @property
    def argv(self) -> list[str]:
        return [self.command, *self.args]

    def describe(self) -> str:
        return " ".join(self.argv)


@dataclass
class ChildStreams:
    read: anyio.abc.ObjectReceiveStream[SessionMessage | Exception]
    write: anyio.abc.ObjectSendStream[SessionMessage]
    process: anyio.abc.Process


@asynccontextmanager
async def spawn(spec: ChildSpec) -> AsyncIterator[ChildStreams]:
    """Start the child; yield the message streams; on exit stop the whole process group."""
    env = {**get_default_environment(), **spec.env}
    process = await anyio.open_process(
        spec.argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None,  # inherited: the child's log lines go where the bridge's go
        env=env,
        cwd=spec.cwd,
        start_new_session=True,
    )
    logger.info("stdio server started", pid=process.pid, command=spec.describe())
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)

    async def stdout_reader() -> None:
        assert process.stdout is not None
        buffer = ""
        async with read_writer:
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                async for chunk in TextReceiveStream(process.stdout, errors="replace"):
                    lines = (buffer + chunk).split("\n")
                    buffer = lines.pop()
                    for line in lines:
                        if line.strip():
                            await read_writer.send(_parse(line))

    async def stdin_writer() -> None:
        assert process.stdin is not None
        async with write_reader:
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                async for message in write_reader:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    await process.stdin.send((data + "\n").encode())

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(stdout_reader)
            tg.start_soon(stdin_writer)
            try:
                yield ChildStreams(read_stream, write_stream, process)
            finally:
                with anyio.CancelScope(shield=True):
                    await stop_process_group(process)
                tg.cancel_scope.cancel()
    finally:
        for stream in (read_stream, write_stream, read_writer, write_reader):
            stream.close()


def _parse(line: str) -> SessionMessage | Exception:
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        logger.warning("stdio server wrote a line that is not JSON-RPC", line=line[:200])
        return exc


async def stop_process_group(process: anyio.abc.Process) -> None:
    """Close stdin, give the child a moment, then SIGTERM and SIGKILL its whole group."""
    pgid = process.pid  # the leader of its own session (start_new_session)
    if process.stdin is not None:
        with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            await process.stdin.aclose()
    with anyio.move_on_after(STOP_GRACE_S):
        await _wait_exit(process)
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, KILL_GRACE_S)):
        # Signal the group even when the leader is gone: grandchildren may remain.
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        with anyio.move_on_after(grace):
            while _group_alive(pgid):  # noqa: ASYNC110 - nothing to wait on but the kernel
                await anyio.sleep(0.02)
        if not _group_alive(pgid):
            break
    with anyio.move_on_after(KILL_GRACE_S):
        await _wait_exit(process)
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await pipe.aclose()
    logger.info("stdio server stopped", pid=pgid, returncode=process.returncode)


async def _wait_exit(process: anyio.abc.Process) -> None:
    # Polling returncode, not wait(): wait() also waits for pipe EOF, which a
    # grandchild holding the pipe would delay.
    while process.returncode is None:  # noqa: ASYNC110
        await anyio.sleep(0.02)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
