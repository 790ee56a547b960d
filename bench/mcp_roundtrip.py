"""Round-trip time of a trivial MCP tool call, per transport, against a real server process.

    uv run python bench/mcp_roundtrip.py [--calls 1000] [--warmup 100]

Starts a server process built from the same scaffold as every toolrelay MCP server
(mcp_servers._http: uvicorn, uvloop, httptools) with one `echo` tool, then calls it
sequentially with the official MCP client over each transport and prints a table.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio
import httpx
from mcp import Client
from mcp.client.sse import sse_client

ROOT = Path(__file__).resolve().parent.parent


def serve(port: int) -> None:
    sys.path.insert(0, str(ROOT))
    from mcp.server.mcpserver import MCPServer

    from mcp_servers._http import build_http_app
    from mcp_servers._http import serve as run

    server: MCPServer[None] = MCPServer("bench")

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    run(build_http_app(server), "127.0.0.1", port)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("bench server did not start")


Connect = Callable[[str], AbstractAsyncContextManager[Client]]


@asynccontextmanager
async def streamable_modern(base: str) -> AsyncIterator[Client]:
    async with Client(f"{base}/mcp") as client:
        yield client


@asynccontextmanager
async def streamable_session(base: str) -> AsyncIterator[Client]:
    async with Client(f"{base}/mcp", mode="legacy") as client:
        yield client


@asynccontextmanager
async def sse(base: str) -> AsyncIterator[Client]:
    async with Client(sse_client(f"{base}/sse")) as client:
        yield client


TRANSPORTS: list[tuple[str, Connect]] = [
    ("streamable HTTP, per-request (2026-07-28)", streamable_modern),
    ("streamable HTTP, session (2025-11-25)", streamable_session),
    ("SSE (legacy)", sse),
]


async def measure(base: str, connect: Connect, calls: int, warmup: int) -> list[float]:
    async with connect(base) as client:
        for _ in range(warmup):
            await client.call_tool("echo", {"text": "hi"})
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            result = await client.call_tool("echo", {"text": "hi"})
            samples.append((time.perf_counter() - started) * 1000)
            if result.is_error:
                raise SystemExit(f"tool call failed: {result}")
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(calls: int, warmup: int) -> None:
    port = free_port()
    process = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        rows = []
        for name, connect in TRANSPORTS:
            samples = await measure(base, connect, calls, warmup)
            rows.append((name, samples))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    print(f"MCP tool call round trip, {calls} sequential calls after {warmup} warm-up, loopback")
    print(f"{'transport':<44}{'median ms':>10}{'p90 ms':>9}{'p99 ms':>9}{'calls/s':>9}")
    for name, samples in rows:
        median = statistics.median(samples)
        rate = len(samples) / (sum(samples) / 1000)
        print(
            f"{name:<44}{median:>10.2f}{percentile(samples, 0.9):>9.2f}"
            f"{percentile(samples, 0.99):>9.2f}{rate:>9.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    # The client logs every HTTP request at INFO; keep the table readable.
    logging.basicConfig(level=logging.WARNING)
    for name in ("httpx", "httpx2", "mcp"):
        logging.getLogger(name).setLevel(logging.WARNING)
    anyio.run(run, args.calls, args.warmup)


if __name__ == "__main__":
    main()
