"""Idle resident memory of the gateway and the middleware, this tree against a git ref.

    uv run python bench/idle_rss.py [--ref main] [--rounds 3]

Each round starts, for this tree and then the ref (the order alternates), a gateway (master
key, SQLite store migrated first, no Redis: `run.py`'s setup) and a middleware in front of it
with one MCP server (`tests.middleware.mcp_test_server`, run from this tree for both), waits
until the middleware lists the server's tools, and reads the RSS of each process tree. Prints
the median per target and the per-round figures. Pinned like `run.py`: servers on
`--server-core`, this script on `--load-core`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procstat import sample
from bench.services import (
    MASTER_KEY,
    REPO,
    Launch,
    Service,
    export_ref,
    free_port,
    gateway_launch,
    start,
    write_config,
)

MB = 1024 * 1024


def _mcp_server(logs: Path, core: int) -> Service:
    port = free_port()
    argv = [sys.executable, "-m", "tests.middleware.mcp_test_server", "--port", str(port)]
    return start(Launch("mcp", argv, {}, port, "/healthz"), core, logs)


def _middleware(source: Path, config: Path, name: str) -> Launch:
    port = free_port()
    argv = [sys.executable, "-m", "toolrelay", "middleware", "--config", str(config)]
    argv += ["--port", str(port), "--log-level", "warning"]
    return Launch(name, argv, {}, port, cwd=source)


def _wait_for_tools(service: Service, timeout: float = 60.0) -> None:
    """The middleware has connected to its MCP server (its warm-up)."""
    url = f"http://127.0.0.1:{service.port}/mcp/tools/list"
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        servers = httpx.get(url, headers=headers, timeout=10).json()["servers"]
        if servers and all(server["health"] == "healthy" for server in servers):
            return
        time.sleep(0.05)
    raise SystemExit(f"{service.launch.name}: no MCP tools listed within {timeout}s")


def _round(source: Path, name: str, work: Path, mcp_url: str, core: int) -> dict[str, float]:
    logs = work / "logs"
    # no upstream is called while idle: port 9 (discard) stands in for it
    launch = gateway_launch(write_config(work / "gateway.yaml", 9), free_port(), source=source)
    gateway = start(launch, core, logs)
    try:
        config = work / "middleware.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "general_settings": {"master_key": MASTER_KEY},
                    "mcp_servers": {"bench": {"url": f"{mcp_url}/mcp"}},
                    "middleware_settings": {"gateway_url": f"http://127.0.0.1:{gateway.port}"},
                    "storage": {"local_dir": str(work / "artifacts")},
                }
            )
        )
        middleware = start(_middleware(source, config, "middleware"), core, logs)
        try:
            _wait_for_tools(middleware)
            return {
                "gateway": sample(gateway.pid).rss_bytes / MB,
                "middleware": sample(middleware.pid).rss_bytes / MB,
            }
        finally:
            middleware.stop()
    finally:
        gateway.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="main", help="baseline git ref (default main)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--load-core", type=int, default=0)
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.load_core})
    targets = {"this tree": REPO, args.ref: export_ref(args.ref)}
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    with tempfile.TemporaryDirectory(prefix="idle-rss-") as tmp:
        work = Path(tmp)
        (work / "logs").mkdir()
        mcp = _mcp_server(work / "logs", args.load_core)
        try:
            for index in range(args.rounds):
                order = list(targets.items())
                for name, source in order if index % 2 == 0 else reversed(order):
                    slot = work / f"{index}-{name.replace(' ', '-').replace('/', '-')}"
                    slot.mkdir()
                    (slot / "logs").mkdir()
                    url = f"http://127.0.0.1:{mcp.port}"
                    figures[name].append(_round(source, name, slot, url, args.server_core))
        finally:
            mcp.stop()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| target | gateway idle MB (median) | middleware idle MB (median) | rounds |")
    print("|---|---|---|---|")
    for name, rounds in figures.items():
        gateway = statistics.median(r["gateway"] for r in rounds)
        middleware = statistics.median(r["middleware"] for r in rounds)
        each = ", ".join(f"{r['gateway']:.1f}/{r['middleware']:.1f}" for r in rounds)
        print(f"| {name} | {gateway:.1f} | {middleware:.1f} | {each} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
