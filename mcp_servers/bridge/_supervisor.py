"""Children on demand: one stdio server process + MCP client session per `Child`.

A `Child` starts its process on the first request and again on the first request after
the process died. Each child runs in a host task owned by the app's lifespan (a child
outlives the HTTP request that started it), and `aclose()` stops its process group.

Errors:

    BridgeError
    ├── ChildUnavailable  - the stdio server could not be started / initialized
    └── ChildDied         - the stdio server exited while a request was in flight
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc
import mcp_types as types
import structlog
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, ConfigDict

from mcp_servers.bridge._child import ChildSpec, spawn

logger = structlog.get_logger(__name__)


class RawResult(BaseModel):
    """Whatever the child answered, passed on as it came."""

    model_config = ConfigDict(extra="allow")


CLIENT_INFO = types.Implementation(name="toolrelay-bridge", version="0.1.0")


class BridgeError(Exception):
    """Base of the bridge's own failures (not errors the child returned)."""


class ChildUnavailable(BridgeError):
    """The stdio server could not be started or did not complete the MCP handshake."""


class ChildDied(BridgeError):
    """The stdio server exited during a request."""


@dataclass
class _Running:
    session: ClientSession
    process: anyio.abc.Process
    capabilities: types.ServerCapabilities
    stop: anyio.Event
    stopped: anyio.Event

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and not self.stopped.is_set()


class Child:
    """One stdio server, (re)started lazily inside the `host` task group."""

    def __init__(
        self,
        spec: ChildSpec,
        host: anyio.abc.TaskGroup,
        *,
        start_timeout_s: float,
        request_timeout_s: float,
    ) -> None:
        self.spec = spec
        self._host = host
        self._start_timeout_s = start_timeout_s
        self._request_timeout_s = request_timeout_s
        self._running: _Running | None = None
        self._lock = anyio.Lock()
        self._closed = False
        self.starts = 0

    @property
    def pid(self) -> int | None:
        running = self._running
        return running.process.pid if running is not None and running.alive else None

    async def capabilities(self) -> types.ServerCapabilities:
        return (await self._ensure()).capabilities

    async def request(self, method: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Forward one request; the child's own JSON-RPC errors propagate as MCPError."""
        running = await self._ensure()
        request = types.Request[dict[str, Any] | None, str](
            method=method, params=dict(params) if params is not None else None
        )
        try:
            result = await running.session.send_request(
                request, RawResult, request_read_timeout_seconds=self._request_timeout_s
            )
            return result.model_dump(mode="json")
        except MCPError as exc:
            if exc.code != types.CONNECTION_CLOSED:
                raise  # the child's own answer: pass it on unchanged
            await self._closed_during(running, method)
            raise
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
            await self._closed_during(running, method)
            raise

    async def _closed_during(self, running: _Running, method: str) -> None:
        """Raise ChildDied if the connection closed because the process exited."""
        with anyio.move_on_after(2.0):  # the exit is seen a moment after the pipe closes
            await running.stopped.wait()
        if not running.alive:
            raise ChildDied(
                f"the stdio server ({self.spec.describe()}) exited during {method}; "
                "it will be restarted on the next request"
            ) from None

    async def _ensure(self) -> _Running:
        async with self._lock:
            if self._closed:
                raise ChildUnavailable("this bridge session is closed")
            running = self._running
            if running is not None and running.alive:
                return running
            if running is not None:
                await self._stop(running)
                logger.warning("stdio server exited; restarting", command=self.spec.describe())
            try:
                with anyio.fail_after(self._start_timeout_s):
                    self._running = await self._host.start(self._run)
            except TimeoutError:
                raise ChildUnavailable(
                    f"the stdio server ({self.spec.describe()}) did not finish the MCP handshake "
                    f"within {self._start_timeout_s:g}s"
                ) from None
            except Exception as exc:  # whatever the child did, the client gets one clear error
                raise ChildUnavailable(
                    f"cannot start the stdio server ({self.spec.describe()}): {type(exc).__name__}: {exc}"
                ) from exc
            self.starts += 1
            return self._running

    async def _run(self, *, task_status: anyio.abc.TaskStatus[_Running]) -> None:
        stopped = anyio.Event()
        started = False
        try:
            async with (
                spawn(self.spec) as streams,
                ClientSession(streams.read, streams.write, client_info=CLIENT_INFO) as session,
            ):
                result = await session.initialize()
                running = _Running(
                    session, streams.process, result.capabilities, anyio.Event(), stopped
                )
                task_status.started(running)
                started = True
                async with anyio.create_task_group() as watch:
                    watch.start_soon(_cancel_on_exit, streams.process, watch.cancel_scope)
                    await running.stop.wait()
                    watch.cancel_scope.cancel()
        except Exception:
            if not started:
                raise
            # A crash after start must not take the host task group down.
            logger.exception(
                "stdio server session ended with an error", command=self.spec.describe()
            )
        finally:
            stopped.set()

    async def _stop(self, running: _Running) -> None:
        running.stop.set()
        with anyio.CancelScope(shield=True):
            await running.stopped.wait()

    async def aclose(self) -> None:
        async with self._lock:
            self._closed = True
            running, self._running = self._running, None
        if running is not None:
            await self._stop(running)


async def _cancel_on_exit(process: anyio.abc.Process, scope: anyio.CancelScope) -> None:
    # Polled: process.wait() would also wait for a grandchild holding the stdout pipe.
    while process.returncode is None:  # noqa: ASYNC110
        await anyio.sleep(0.1)
    scope.cancel()
