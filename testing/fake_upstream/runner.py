"""Run the fake upstream: the uvicorn settings, a background thread, a subprocess command."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from .app import FakeUpstream

MODULE = "testing.fake_upstream"


@dataclass(frozen=True)
class ServerTls:
    """Serve HTTPS with this certificate chain and key (PEM files), for TLS tests."""

    certfile: Path
    keyfile: Path


def uvicorn_config(
    upstream: FakeUpstream,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    tls: ServerTls | None = None,
) -> uvicorn.Config:
    return uvicorn.Config(
        upstream.app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        proxy_headers=False,  # nothing sits in front of a fake; skip the middleware
        server_header=False,
        log_level=log_level,
        # `hang` requests never finish by themselves; don't let them hold up a shutdown.
        timeout_graceful_shutdown=1,
        ssl_certfile=str(tls.certfile) if tls else None,
        ssl_keyfile=str(tls.keyfile) if tls else None,
    )


@contextmanager
def serve_in_thread(
    upstream: FakeUpstream | None = None,
    host: str = "127.0.0.1",
    start_timeout: float = 10.0,
    tls: ServerTls | None = None,
) -> Iterator[str]:
    """Serve `upstream` (or a fresh one) on a free loopback port; yields its base URL
    (https:// when `tls` is given)."""
    upstream = upstream or FakeUpstream()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(upstream, host, port, tls=tls))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"fake-upstream-{port}", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread, start_timeout)
        yield f"{'https' if tls else 'http'}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(start_timeout)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    ready = threading.Event()
    # uvicorn has no start callback; poll its flag on a short interval, bounded by `timeout`.
    for _ in range(int(timeout / 0.01)):
        if server.started:
            return
        if not thread.is_alive():
            raise RuntimeError("fake upstream thread exited before it started serving")
        ready.wait(0.01)
    raise TimeoutError(f"fake upstream did not start within {timeout}s")


def command_args(
    port: int,
    host: str = "127.0.0.1",
    *,
    require_key: str | None = None,
    record_limit: int | None = None,
    tls: ServerTls | None = None,
) -> list[str]:
    """Arguments for `python` to run the fake upstream as its own process."""
    args = ["-m", MODULE, "--host", host, "--port", str(port)]
    if require_key is not None:
        args += ["--require-key", require_key]
    if record_limit is not None:
        args += ["--record-limit", str(record_limit)]
    if tls is not None:
        args += ["--certfile", str(tls.certfile), "--keyfile", str(tls.keyfile)]
    return args


def command(
    port: int,
    host: str = "127.0.0.1",
    *,
    require_key: str | None = None,
    record_limit: int | None = None,
    tls: ServerTls | None = None,
) -> list[str]:
    """The full command line, with this interpreter: for benchmarks and shell scripts."""
    args = command_args(port, host, require_key=require_key, record_limit=record_limit, tls=tls)
    return [sys.executable, *args]
