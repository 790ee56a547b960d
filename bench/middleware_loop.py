"""The middleware's own cost per tool-loop iteration.

Starts real processes on loopback (fake upstream, gateway, a small MCP server, the
middleware), then sends sequential non-streaming chat requests whose scripted model calls
one MCP tool per iteration for ITERATIONS iterations, then answers. The middleware reports
its model time and tool time in `Server-Timing`; its own cost is the rest:

    own = total - model - tools        (per request, divided by model calls)

`client` uses the total the client saw (includes loopback HTTP to the middleware);
`server` uses the middleware's own total (request body read to response body built).

Streaming: a second middleware reaches the gateway through a TCP relay in this process,
which notes when the first answer token crosses from the gateway into the middleware.
The client (streaming, this process, same clock) notes when that token reaches it. The
difference is the time the middleware holds the model's first answer token:

    first-token delay = client receives it - the middleware was handed it

Each streamed request calls one MCP tool first, so the answer streams through the loop.

    uv run python bench/middleware_loop.py [--requests 300] [--iterations 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.fake_upstream import command_args
from tests.support.processes import ServiceProcess, free_port, start_service

MASTER_KEY = "sk-bench"
MODEL = "bench-loop"
STREAM_MODEL = "bench-stream"
ANSWER_MARKER = "Firstanswertoken"


class FirstTokenRelay:
    """A TCP relay to the gateway, on its own thread and event loop, that timestamps the
    first time `marker` passes from the gateway towards the middleware (per `arm()`)."""

    def __init__(self, target_port: int, marker: bytes) -> None:
        self.target_port = target_port
        self.marker = marker
        self.port = free_port()
        self.seen_at: float | None = None
        self._armed = False
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> FirstTokenRelay:
        self._thread.start()
        self._ready.wait(10)
        return self

    def arm(self) -> None:
        self.seen_at = None
        self._armed = True

    def stop(self) -> None:
        async def shut() -> None:
            tasks = [t for t in asyncio.all_tasks(self._loop) if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shut(), self._loop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, watch: bool) -> None:
            tail = b""
            try:
                while data := await src.read(65536):
                    if watch and self._armed and self.marker in tail + data:
                        self.seen_at = time.perf_counter()
                        self._armed = False
                    tail = data[-len(self.marker) :]
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def _start(name: str, args: list[str], port: int, logs: Path, health: str) -> ServiceProcess:
    return start_service(name, args, port=port, log_dir=logs, health_path=health, timeout=60)


def _timing(header: str) -> dict[str, float]:
    parts = {}
    for item in header.split(","):
        name, _, dur = item.strip().partition(";dur=")
        parts[name] = float(dur)
    return parts


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--iterations", type=int, default=3, help="tool iterations per request")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.warmup = min(args.requests, 60), min(args.warmup, 5)

    work = Path(tempfile.mkdtemp(prefix="toolrelay-bench-"))
    started: list[ServiceProcess] = []
    try:
        port = free_port()
        upstream = _start("fake-upstream", command_args(port), port, work, "/health")
        started.append(upstream)
        gateway_config = _write(
            work / "gateway.yaml",
            {
                "model_list": [
                    {
                        "model_name": name,
                        "litellm_params": {
                            "model": f"openai/{name}",
                            "api_base": f"{upstream.url}/v1",
                            "api_key": "x",
                        },
                    }
                    for name in (MODEL, STREAM_MODEL)
                ],
                "general_settings": {"master_key": MASTER_KEY},
            },
        )
        port = free_port()
        gateway = _start(
            "gateway",
            ["-m", "toolrelay", "gateway", "--config", str(gateway_config), "--port", str(port)],
            port,
            work,
            "/health/liveliness",
        )
        started.append(gateway)
        port = free_port()
        mcp = _start(
            "mcp",
            ["-m", "tests.middleware.mcp_test_server", "--port", str(port)],
            port,
            work,
            "/healthz",
        )
        started.append(mcp)
        middleware_config = _write(
            work / "middleware.yaml",
            {
                "general_settings": {"master_key": MASTER_KEY},
                "mcp_servers": {"bench": {"url": f"{mcp.url}/mcp"}},
                "middleware_settings": {
                    "gateway_url": gateway.url,
                    "max_iterations": args.iterations + 1,
                },
                "storage": {"local_dir": str(work / "artifacts")},
                "litellm_settings": {"json_logs": True},
            },
        )
        port = free_port()
        middleware = _start(
            "middleware",
            [
                "-m",
                "toolrelay",
                "middleware",
                "--config",
                str(middleware_config),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            port,
            work,
            "/health/liveliness",
        )
        started.append(middleware)
        _wait_tools(middleware)

        client_own: list[float] = []
        server_own: list[float] = []
        with httpx.Client(timeout=60) as control, httpx.Client(timeout=60) as client:
            for i in range(args.warmup + args.requests):
                replies: list[dict[str, Any]] = [
                    {"tool_calls": [{"name": "echo", "arguments": {"text": f"r{i}-{n}"}}]}
                    for n in range(args.iterations)
                ]
                replies.append({"text": "done"})
                control.post(
                    f"{upstream.url}/__fake__/script", json={"model": MODEL, "replies": replies}
                ).raise_for_status()
                t0 = time.perf_counter()
                response = client.post(
                    f"{middleware.url}/v1/chat/completions",
                    json={"model": MODEL, "messages": [{"role": "user", "content": f"go {i}"}]},
                    headers={"Authorization": f"Bearer {MASTER_KEY}"},
                )
                client_total = (time.perf_counter() - t0) * 1000
                response.raise_for_status()
                timing = _timing(response.headers["server-timing"])
                calls = int(response.headers["x-toolrelay-iterations"])
                if i < args.warmup:
                    continue
                client_own.append((client_total - timing["model"] - timing["tools"]) / calls)
                server_own.append((timing["total"] - timing["model"] - timing["tools"]) / calls)
        results: dict[str, Any] = {
            "requests": args.requests,
            "model_calls_per_request": args.iterations + 1,
        }
        lines = [
            f"requests={args.requests} model_calls_per_request={args.iterations + 1} "
            f"(tool iterations={args.iterations})"
        ]
        for label, values in (("client-observed", client_own), ("in-server", server_own)):
            results[f"own_cost_ms_{label}"] = _summary(values)
            lines.append(
                f"middleware own cost per iteration ({label}): "
                f"median {statistics.median(values):.3f} ms, p99 {_percentile(values, 0.99):.3f} ms, "
                f"mean {statistics.fmean(values):.3f} ms"
            )

        relay = FirstTokenRelay(gateway.port, ANSWER_MARKER.encode()).start()
        try:
            streaming_config = _write(
                work / "middleware-stream.yaml",
                {
                    **yaml.safe_load(middleware_config.read_text()),
                    "middleware_settings": {"gateway_url": f"http://127.0.0.1:{relay.port}"},
                },
            )
            port = free_port()
            streaming = _start(
                "middleware-stream",
                [
                    *("-m", "toolrelay", "middleware", "--config", str(streaming_config)),
                    *("--port", str(port), "--log-level", "warning"),
                ],
                port,
                work,
                "/health/liveliness",
            )
            started.append(streaming)
            _wait_tools(streaming)
            delays = _first_token_delays(
                upstream, streaming.url, relay, args.warmup, args.requests, with_tool=True
            )
            # Baseline: the same token through the relay straight to a streaming client, no
            # middleware: what one loopback hop and a process wake-up cost on this machine.
            baseline = _first_token_delays(
                upstream, f"http://127.0.0.1:{relay.port}", relay, args.warmup, args.requests
            )
        finally:
            relay.stop()
        results["stream_first_token_delay_ms"] = _summary(delays)
        results["stream_first_token_baseline_ms"] = _summary(baseline)
        lines.append(
            "streaming client, model's first answer token to the client's "
            f"(held by the middleware, after one MCP tool call): median "
            f"{statistics.median(delays):.3f} ms, p99 {_percentile(delays, 0.99):.3f} ms, "
            f"mean {statistics.fmean(delays):.3f} ms (n={len(delays)})"
        )
        lines.append(
            "baseline, the same token through a bare TCP hop to the client (no middleware): "
            f"median {statistics.median(baseline):.3f} ms, "
            f"p99 {_percentile(baseline, 0.99):.3f} ms"
        )
        for line in lines:
            print(line)
        if args.json is not None:
            results["markdown"] = "\n".join(f"- {line}" for line in lines)
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    finally:
        for process in reversed(started):
            process.stop()


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "p99": _percentile(values, 0.99),
        "mean": statistics.fmean(values),
    }


def _first_token_delays(
    upstream: ServiceProcess,
    base_url: str,
    relay: FirstTokenRelay,
    warmup: int,
    requests: int,
    *,
    with_tool: bool = False,
) -> list[float]:
    delays: list[float] = []
    marker = ANSWER_MARKER.encode()
    with httpx.Client(timeout=60) as control, httpx.Client(timeout=60) as client:
        for i in range(warmup + requests):
            replies: list[dict[str, Any]] = [
                {"text": f"{ANSWER_MARKER} and then the rest of the answer, word by word."}
            ]
            if with_tool:
                replies.insert(0, {"tool_calls": [{"name": "echo", "arguments": {"text": f"{i}"}}]})
            control.post(
                f"{upstream.url}/__fake__/script", json={"model": STREAM_MODEL, "replies": replies}
            ).raise_for_status()
            relay.arm()
            received_at: float | None = None
            with client.stream(
                "POST",
                f"{base_url}/v1/chat/completions",
                json={
                    "model": STREAM_MODEL,
                    "stream": True,
                    "messages": [{"role": "user", "content": f"go {i}"}],
                },
                headers={"Authorization": f"Bearer {MASTER_KEY}"},
            ) as response:
                response.raise_for_status()
                for chunk in response.iter_raw():
                    if received_at is None and marker in chunk:
                        received_at = time.perf_counter()
            if relay.seen_at is None or received_at is None:
                raise RuntimeError("the answer marker was not seen on both sides")
            if i >= warmup:
                delays.append((received_at - relay.seen_at) * 1000)
    return delays


def _wait_tools(middleware: ServiceProcess) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = httpx.get(
            f"{middleware.url}/mcp/tools/list", headers={"Authorization": f"Bearer {MASTER_KEY}"}
        ).json()
        if all(server["health"] == "healthy" for server in body["servers"]):
            return
        time.sleep(0.05)
    raise TimeoutError("MCP server never became healthy in the middleware")


if __name__ == "__main__":
    sys.exit(main())
