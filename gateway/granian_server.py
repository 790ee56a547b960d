"""Granian as the gateway's ASGI server (`toolrelay gateway --server granian`).

One worker runs embedded in the gateway process (`granian.server.embed`), as uvicorn runs
one worker: Granian's usual supervisor process beside it would double the idle RSS. Several
workers run under Granian's supervisor, each building its app from the factory.

Imported only when chosen: granian is not a dependency (bench/README.md says why).
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import uvloop
from granian.constants import (  # type: ignore[import-not-found, unused-ignore]
    HTTPModes,
    Interfaces,
    Loops,
)
from granian.log import LogLevels  # type: ignore[import-not-found, unused-ignore]
from granian.server.embed import (  # type: ignore[import-not-found, unused-ignore]
    Server as EmbeddedServer,
)
from granian.server.mp import MPServer  # type: ignore[import-not-found, unused-ignore]


def _logging() -> dict[str, Any]:
    """Granian's loggers without handlers of their own: their lines go through ours (JSON).
    A fresh dict each time: Granian writes the level into the one it is given."""
    return {
        "loggers": {
            "_granian": {"level": "WARNING", "propagate": True},
            "granian.access": {"level": "WARNING", "propagate": True},
        }
    }


def run_embedded(app: Any, host: str, port: int, graceful_seconds: int) -> None:
    """Serve `app` in this process until SIGTERM or SIGINT, then drain and run the lifespan's
    shutdown (the embedded server installs no signal handlers of its own)."""
    server = EmbeddedServer(
        app,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        http=HTTPModes.http1,
        websockets=False,
        log_access=False,
        log_level=LogLevels.warning,
        log_dictconfig=_logging(),
    )
    server.workers_kill_timeout = graceful_seconds

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, server.stop)
        await server.serve()

    uvloop.run(main())


def run_workers(factory: str, host: str, port: int, workers: int, graceful_seconds: int) -> None:
    MPServer(
        factory,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        log_access=False,
        log_level=LogLevels.warning,
        log_dictconfig=_logging(),
        workers_kill_timeout=graceful_seconds,
    ).serve()
