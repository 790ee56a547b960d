"""Many concurrent clients through middleware and gateway (real processes), mixing streaming
and non-streaming calls, with resource readings of both services before and after.

Shared by the fast CI test (few clients, a few seconds) and `scripts/soak` (500 clients).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import yaml

from tests.reliability.stack import (
    MASTER_KEY,
    Stack,
    spend_request_count,
    start_gateway,
    start_upstream,
)
from tests.support.processes import ServiceProcess, free_port, start_service


@dataclass
class Reading:
    rss_kb: int
    fds: int
    socket_fds: int
    threads: int
    children: int


@dataclass
class LoadResult:
    clients: int
    seconds: float
    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    before: dict[str, Reading] = field(default_factory=dict)
    after: dict[str, Reading] = field(default_factory=dict)
    spend_expected: int = 0
    spend_found: int = 0
    error_samples: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out["errors"] = dict(self.errors)
        return out


def read_process(pid: int) -> Reading:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    sockets = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            sockets += os.readlink(fd).startswith("socket:")
        except OSError:
            continue  # closed between listing and reading
    children = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += len((task / "children").read_text().split())
    return Reading(
        rss_kb=int(fields["VmRSS"].split()[0]),
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        socket_fds=sockets,
        threads=int(fields["Threads"]),
        children=children,
    )


@dataclass
class FullStack:
    gateway_stack: Stack
    middleware: ServiceProcess
    mcp: ServiceProcess

    def services(self) -> dict[str, ServiceProcess]:
        return {"gateway": self.gateway_stack.gateway, "middleware": self.middleware}


@contextmanager
def running_full_stack(log_dir: Path) -> Iterator[FullStack]:
    upstream = start_upstream(log_dir)
    try:
        home = log_dir / "home"
        gateway = start_gateway(log_dir, upstream.url, home)
        try:
            mcp_port = free_port()
            mcp = start_service(
                "test-mcp",
                ["-m", "tests.middleware.mcp_test_server", "--port", str(mcp_port)],
                port=mcp_port,
                log_dir=log_dir,
                health_path="/healthz",
            )
            try:
                config = home / "middleware.yaml"
                config.write_text(
                    yaml.safe_dump(
                        {
                            "general_settings": {"master_key": MASTER_KEY},
                            "mcp_servers": {"test": {"url": f"{mcp.url}/mcp"}},
                            "middleware_settings": {"gateway_url": gateway.url},
                            "storage": {"local_dir": str(home / "artifacts")},
                        }
                    )
                )
                port = free_port()
                middleware = start_service(
                    "middleware",
                    ["-m", "toolrelay", "middleware", "--config", str(config), "--port", str(port)],
                    port=port,
                    log_dir=log_dir,
                )
                try:
                    yield FullStack(Stack(upstream, gateway, home), middleware, mcp)
                finally:
                    middleware.stop()
            finally:
                mcp.stop()
        finally:
            gateway.stop()
    finally:
        upstream.stop()


async def _client_loop(
    n: int, stack: FullStack, key: str, deadline: float, result: LoadResult
) -> None:
    base = stack.middleware.url if n % 2 == 0 else stack.gateway_stack.url
    stream = n % 4 in (0, 1)
    body = {
        "model": "echo",
        "stream": stream,
        "messages": [{"role": "user", "content": f"client {n}"}],
    }
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        while time.monotonic() < deadline:
            result.sent += 1
            try:
                if stream:
                    async with client.stream("POST", "/v1/chat/completions", json=body) as r:
                        text = (await r.aread()).decode(errors="replace")
                        good = r.status_code == 200 and text.rstrip().endswith("data: [DONE]")
                        kind = f"http-{r.status_code}" if r.status_code != 200 else "bad-stream"
                else:
                    r = await client.post("/v1/chat/completions", json=body)
                    text = r.text
                    good = r.status_code == 200 and bool(r.json()["choices"][0]["message"])
                    kind = f"http-{r.status_code}"
            except httpx.HTTPError as exc:
                good, kind, text = False, type(exc).__name__, repr(exc)
            if good:
                result.ok += 1
            else:
                result.errors[kind] += 1
                if len(result.error_samples) < 10:
                    result.error_samples.append(f"{base} stream={stream} {kind}: {text[:300]}")


async def run_load(stack: FullStack, clients: int, seconds: float) -> LoadResult:
    result = LoadResult(clients=clients, seconds=seconds)
    key = stack.gateway_stack.new_key(key_alias="load")
    # Warm-up at full concurrency, so connection pools and caches are at their working size
    # before the "before" reading; what grows after it is a leak, not a pool filling up.
    warm = LoadResult(clients=clients, seconds=max(2.0, seconds / 5))
    warm_deadline = time.monotonic() + warm.seconds
    async with anyio.create_task_group() as tg:
        for n in range(warm.clients):
            tg.start_soon(_client_loop, n, stack, key, warm_deadline, warm)
    result.errors.update(warm.errors)
    result.before = {name: read_process(s.process.pid) for name, s in stack.services().items()}
    deadline = time.monotonic() + seconds
    async with anyio.create_task_group() as tg:
        for n in range(clients):
            tg.start_soon(_client_loop, n, stack, key, deadline, result)
    result.spend_expected = warm.sent + result.sent
    found = 0
    with anyio.move_on_after(60):  # then `spend_found` says how many arrived
        found = await anyio.to_thread.run_sync(spend_request_count, stack.gateway_stack, key)
        while found < result.spend_expected:
            await anyio.sleep(0.2)
            found = await anyio.to_thread.run_sync(spend_request_count, stack.gateway_stack, key)
    result.spend_found = found
    result.after = {name: read_process(s.process.pid) for name, s in stack.services().items()}
    return result
