"""Start real service processes on loopback ports, wait until they answer, stop them by PID."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# Below Linux's ephemeral range (32768-60999 by default): a port handed out here is picked
# again only by another test's bind, never by the kernel for an outgoing connection, which on
# a busy machine could take it between this check and the service's own bind.
LISTEN_PORTS = range(20_000, 32_700)


def free_port() -> int:
    while True:
        port = LISTEN_PORTS[secrets.randbelow(len(LISTEN_PORTS))]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass
class ServiceProcess:
    """A child process serving HTTP on 127.0.0.1:port; its output goes to `log_path`."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        stop_process(self.process, timeout)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def wait_until_healthy(
    url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 30.0
) -> None:
    """Poll `url` until it answers 2xx; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(
                    f"process exited with {process.returncode} before {url} answered"
                )
            try:
                response = client.get(url)
                if response.is_success:
                    return
                last_error = f"status {response.status_code}"
            except httpx.TransportError as exc:
                last_error = repr(exc)
            time.sleep(0.05)
    raise TimeoutError(f"{url} not healthy after {timeout}s: {last_error}")


def start_service(
    name: str,
    args: Sequence[str],
    *,
    port: int,
    log_dir: Path,
    health_path: str = "/health/liveliness",
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> ServiceProcess:
    """Run `python -m ...` style args with this interpreter and wait for its health route."""
    full_env = {**os.environ, **(env or {})}
    log_path = log_dir / f"{name}-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, *args],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=full_env,
        start_new_session=True,
    )
    log_file.close()
    service = ServiceProcess(
        name=name, process=process, port=port, log_path=log_path, env=env or {}
    )
    try:
        wait_until_healthy(f"{service.url}{health_path}", process, timeout)
    except BaseException:
        service.stop()
        raise RuntimeError(f"{name} failed to start; log:\n{service.log()}") from None
    return service
