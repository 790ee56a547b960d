"""The middleware's own cost per tool-loop iteration.

Starts real processes on loopback (fake upstream, gateway, a small MCP server, the
middleware), then sends sequential non-streaming chat requests whose scripted model calls
one MCP tool per iteration for ITERATIONS iterations, then answers. The middleware reports
its model time and tool time in `Server-Timing`; its own cost is the rest:

    own = total - model - tools        (per request, divided by model calls)

`client` uses the total the client saw (includes loopback HTTP to the middleware);
`server` uses the middleware's own total (request body read to response body built).

    uv run python bench/middleware_loop.py [--requests 300] [--iterations 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
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
    args = parser.parse_args()

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
                        "model_name": MODEL,
                        "litellm_params": {
                            "model": f"openai/{MODEL}",
                            "api_base": f"{upstream.url}/v1",
                            "api_key": "x",
                        },
                    }
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
        print(
            f"requests={args.requests} model_calls_per_request={args.iterations + 1} (tool iterations={args.iterations})"
        )
        for label, values in (("client-observed", client_own), ("in-server", server_own)):
            print(
                f"middleware own cost per iteration ({label}): "
                f"median {statistics.median(values):.3f} ms, p99 {_percentile(values, 0.99):.3f} ms, "
                f"mean {statistics.fmean(values):.3f} ms"
            )
        return 0
    finally:
        for process in reversed(started):
            process.stop()


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
