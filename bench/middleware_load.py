"""The middleware under load: throughput and CPU per request, next to the gateway's own.

    uv run python bench/middleware_load.py [--quick] [--rounds N] [--seconds S] [--json PATH]

Starts real processes on loopback: the fake upstream, the gateway (launched as bench/run.py
launches it), a trivial MCP server (one `ping` tool, the scaffold every toolrelay MCP server
uses: mcp_servers._http, uvicorn on uvloop/httptools), and the middleware in front of the
gateway with that server configured. The middleware and the gateway are pinned to
`--server-core`; wrk, the fake upstream and the MCP server to `--load-core`.

Three scenarios, `wrk -t1 -c64` each, in interleaved rounds (the first scenario rotates every
round, so drifts in machine load hit all alike):

    gateway        wrk -> gateway -> upstream                       (the gateway alone)
    mw-no-tool     wrk -> middleware -> gateway -> upstream         (the pass-through cost)
    mw-one-tool    wrk -> middleware -> gateway (tool call) -> MCP ping -> gateway (answer)

`mw-one-tool` uses the fake upstream's `tool-call` model, which calls the request's first tool
whenever it is offered tools; the middleware runs with `max_iterations: 1`, so after one tool
call it asks once more without tools and the model answers in text. Each request is checked
once before the runs (two model calls, one MCP call).

CPU per request is utime+stime from /proc of each process tree (bench/procstat.py), delta over
the run divided by wrk's request count; `util` is that CPU over the wall time of the run (1.0 =
one full core). The goal of issue 24: the middleware's own CPU for a no-tool request at most
1.5x the gateway's (the gateway's CPU per request in the `gateway` scenario).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/...`

from bench.load import write_wrk_script
from bench.procstat import sample
from bench.services import (
    MASTER_KEY,
    REPO,
    Launch,
    Service,
    fake_upstream_launch,
    free_port,
    gateway_launch,
    proxy_config,
    start,
)
from bench.stats import median
from bench.targets import CHAT_PATH
from bench.wrk import run_wrk

NO_TOOL_MODEL = "size-200"
TOOL_MODEL = "tool-call"  # the fake upstream calls the first tool it is offered
CONNECTIONS = 64
GOAL_RATIO = 1.5


def serve_mcp(port: int) -> None:
    """The MCP server of the benchmark: one tool that costs nothing, so the figure is the
    protocol's and the middleware's cost, not the tool's."""
    from mcp.server.mcpserver import MCPServer

    from mcp_servers._http import build_http_app, serve

    server: MCPServer[None] = MCPServer("bench")

    @server.tool()
    def ping() -> str:
        """Answer pong."""
        return "pong"

    serve(build_http_app(server), "127.0.0.1", port)


@dataclass
class Stack:
    """The running processes: `gateway` and the middlewares on the server core."""

    work: Path
    upstream: Service
    gateway: Service
    mcp: Service
    middlewares: dict[str, Service]  # "middleware", and "middleware-base" for a baseline

    @property
    def middleware(self) -> Service:
        return self.middlewares["middleware"]

    def pids(self) -> dict[str, int]:
        pids = {"gateway": self.gateway.pid, "mcp": self.mcp.pid, "upstream": self.upstream.pid}
        return pids | {name: service.pid for name, service in self.middlewares.items()}


def gateway_config(path: Path, upstream_port: int, models: tuple[str, ...]) -> Path:
    config = proxy_config(upstream_port, models)
    # An upstream 5xx is returned as it is, without the retry backoff's sleeps holding a
    # load generator's connection for seconds (bench/memory_growth.py sends some).
    config["router_settings"] = {"num_retries": 0}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def middleware_launch(
    config: Path, port: int, *, name: str = "middleware", source: Path = REPO
) -> Launch:
    """`source`: a checkout to run (`python -m` puts the working directory first on
    sys.path, so an exported baseline shadows the installed packages)."""
    argv = [sys.executable, "-m", "toolrelay", "middleware", "--config", str(config)]
    home = {"TOOLRELAY_HOME": str(config.parent / f"home-{name}")}
    return Launch(name, [*argv, "--port", str(port)], home, port, cwd=source)


def export_middleware(ref: str) -> Path:
    """The packages the middleware imports, as they are at git `ref`, under .cache/."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    target = REPO / ".cache" / f"middleware-baseline-{sha}"
    if not target.exists():
        archive = subprocess.run(
            ["git", "archive", sha, "middleware", "common", "toolrelay", "gateway"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout
        target.mkdir(parents=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def mcp_launch(port: int) -> Launch:
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve-mcp", str(port)]
    return Launch("mcp", argv, {}, port, "/healthz")


@contextmanager
def running_stack(
    work: Path,
    models: tuple[str, ...],
    *,
    server_core: int,
    load_core: int,
    baseline: Path | None = None,
    wrap: Callable[[Launch], Launch] = lambda launch: launch,
) -> Iterator[Stack]:
    """Every process of the benchmark, stopped by PID on the way out. `baseline`: also run
    the middleware from this exported checkout, as "middleware-base", on the same gateway.
    `wrap`: changes how the gateway and the middlewares are launched (a debug wrapper)."""
    started: list[Service] = []
    try:
        upstream = start(fake_upstream_launch(free_port()), load_core, work)
        started.append(upstream)
        config = gateway_config(work / "gateway.yaml", upstream.port, models)
        gateway = start(wrap(gateway_launch(config, free_port())), server_core, work, timeout=180)
        started.append(gateway)
        mcp = start(mcp_launch(free_port()), load_core, work)
        started.append(mcp)
        middleware_config = work / "middleware.yaml"
        middleware_config.write_text(
            yaml.safe_dump(
                {
                    "general_settings": {"master_key": MASTER_KEY},
                    "mcp_servers": {"bench": {"url": f"http://127.0.0.1:{mcp.port}/mcp"}},
                    "middleware_settings": {
                        "gateway_url": f"http://127.0.0.1:{gateway.port}",
                        "max_iterations": 1,
                    },
                    "storage": {"local_dir": str(work / "artifacts")},
                }
            )
        )
        sources = {"middleware": REPO} | ({"middleware-base": baseline} if baseline else {})
        middlewares: dict[str, Service] = {}
        for name, source in sources.items():
            launch = middleware_launch(middleware_config, free_port(), name=name, source=source)
            middlewares[name] = start(wrap(launch), server_core, work, timeout=180)
            started.append(middlewares[name])
            _wait_tools(middlewares[name].port)
        yield Stack(work, upstream, gateway, mcp, middlewares)
    finally:
        for service in reversed(started):
            service.stop()


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {MASTER_KEY}"}


def _wait_tools(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline:
            body = client.get(f"http://127.0.0.1:{port}/mcp/tools/list", headers=_auth()).json()
            servers = body["servers"]
            if servers and all(server["health"] == "healthy" for server in servers):
                return
            time.sleep(0.05)  # polling the middleware's own view; it has no push
    raise TimeoutError("the MCP server never became healthy in the middleware")


def check_one_tool_loop(middleware_port: int) -> None:
    """One `tool-call` request: two model calls, the tool's answer reached the model's turn."""
    response = httpx.post(
        f"http://127.0.0.1:{middleware_port}{CHAT_PATH}",
        json={"model": TOOL_MODEL, "messages": [{"role": "user", "content": "ping it"}]},
        headers=_auth(),
        timeout=30,
    )
    response.raise_for_status()
    iterations = response.headers.get("x-toolrelay-iterations")
    if iterations != "2":
        raise RuntimeError(f"expected one tool call and an answer, got {iterations} model calls")


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    rps: float
    errors: int
    cpu: dict[str, float]  # seconds per process tree over the run

    def us_per_request(self, name: str) -> float:
        return self.cpu[name] / self.requests * 1e6 if self.requests else float("nan")

    def utilisation(self, name: str) -> float:
        return self.cpu[name] / self.seconds if self.seconds else float("nan")


def measure(pids: dict[str, int], url: str, script: Path, *, seconds: float, core: int) -> Run:
    before = {name: sample(pid).cpu_seconds for name, pid in pids.items()}
    result = run_wrk(url, script, seconds=seconds, connections=CONNECTIONS, core=core)
    after = {name: sample(pid).cpu_seconds for name, pid in pids.items()}
    return Run(
        result.requests,
        result.seconds,
        result.requests_per_second,
        result.errors,
        {name: after[name] - before[name] for name in pids},
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    port: int
    script: Path
    middleware: str | None  # the middleware process this scenario goes through, if any

    @property
    def processes(self) -> tuple[str, ...]:
        """The process trees whose CPU it reports (the middleware's under "middleware")."""
        return ("gateway", "upstream") + (("middleware", "mcp") if self.middleware else ())


def rounds_of(
    stack: Stack, scenarios: list[Scenario], *, rounds: int, seconds: float, core: int
) -> dict[str, list[Run]]:
    runs: dict[str, list[Run]] = {s.name: [] for s in scenarios}
    every = stack.pids()

    def pids(s: Scenario) -> dict[str, int]:
        own = {"gateway", "upstream", "mcp"}
        chosen = {name: pid for name, pid in every.items() if name in own}
        return chosen | ({"middleware": every[s.middleware]} if s.middleware else {})

    for s in scenarios:  # warm-up: connection pools, tool lists, caches
        measure(pids(s), f"http://127.0.0.1:{s.port}{CHAT_PATH}", s.script, seconds=1, core=core)
    for r in range(rounds):
        shift = r % len(scenarios)
        for s in scenarios[shift:] + scenarios[:shift]:
            url = f"http://127.0.0.1:{s.port}{CHAT_PATH}"
            runs[s.name].append(measure(pids(s), url, s.script, seconds=seconds, core=core))
    return runs


def summarise(scenarios: list[Scenario], runs: dict[str, list[Run]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in scenarios:
        items = runs[s.name]
        out[s.name] = {
            "rounds": len(items),
            "requests": sum(i.requests for i in items),
            "errors": sum(i.errors for i in items),
            "rps_median": median([i.rps for i in items]),
            "rps_all": [round(i.rps, 1) for i in items],
            "cpu_us_per_request": {
                name: median([i.us_per_request(name) for i in items]) for name in s.processes
            },
            "cpu_us_all": {
                name: [round(i.us_per_request(name), 1) for i in items] for name in s.processes
            },
            "utilisation": {
                name: median([i.utilisation(name) for i in items]) for name in s.processes
            },
        }
    out["ratio"] = _ratio(runs, out, "mw-no-tool")
    if "base-no-tool" in out:
        out["ratio_base"] = _ratio(runs, out, "base-no-tool")
        out["change"] = {
            name: out[name]["cpu_us_per_request"]["middleware"]
            / out[f"base-{name[3:]}"]["cpu_us_per_request"]["middleware"]
            for name in ("mw-no-tool", "mw-one-tool")
        }
    return out


def _ratio(runs: dict[str, list[Run]], out: dict[str, Any], no_tool: str) -> dict[str, Any]:
    """The middleware's CPU per no-tool request over the gateway's (the gateway alone)."""
    gateway_alone = out["gateway"]["cpu_us_per_request"]["gateway"]
    chained = out[no_tool]["cpu_us_per_request"]
    # per round: the middleware's no-tool run and the gateway's own run of the same round
    per_round = [
        m.us_per_request("middleware") / g.us_per_request("gateway")
        for m, g in zip(runs[no_tool], runs["gateway"], strict=True)
    ]
    return {
        "middleware_no_tool_over_gateway": chained["middleware"] / gateway_alone,
        "per_round": [round(r, 2) for r in per_round],
        "middleware_no_tool_over_gateway_same_run": chained["middleware"] / chained["gateway"],
        "goal": GOAL_RATIO,
    }


def markdown(summary: dict[str, Any], command: str, loadavg: str) -> str:
    lines = [
        f"`{command}` (load average at start {loadavg}); wrk -t1 -c{CONNECTIONS}; medians of "
        f"{summary['gateway']['rounds']} interleaved rounds; CPU in us per client request "
        "(utime+stime of each process tree), util = share of one core during the run.",
        "",
        "| scenario | req/s | errors | middleware us (util) | gateway us (util) "
        "| MCP server us (util) | fake upstream us (util) |",
        "|---|---|---|---|---|---|---|",
    ]
    names = ("gateway", "mw-no-tool", "mw-one-tool", "base-no-tool", "base-one-tool")
    for name in [n for n in names if n in summary]:
        row = summary[name]
        cells = []
        for process in ("middleware", "gateway", "mcp", "upstream"):
            cpu = row["cpu_us_per_request"].get(process)
            util = row["utilisation"].get(process)
            cells.append("-" if cpu is None else f"{cpu:.0f} ({util:.2f})")
        lines.append(
            f"| {name} | {row['rps_median']:.0f} | {row['errors']} | " + " | ".join(cells) + " |"
        )
    lines.append("")
    for key, label in (("ratio", "Middleware"), ("ratio_base", "Baseline middleware")):
        if key not in summary:
            continue
        ratio = summary[key]
        verdict = "met" if ratio["middleware_no_tool_over_gateway"] <= GOAL_RATIO else "NOT met"
        lines.append(
            f"- {label} CPU per no-tool request / gateway CPU per request (gateway alone): "
            f"**{ratio['middleware_no_tool_over_gateway']:.2f}x** (per round: "
            f"{', '.join(f'{r:.2f}' for r in ratio['per_round'])}); goal <= {GOAL_RATIO}x: "
            f"{verdict}. Against the gateway's CPU in the same chained run: "
            f"{ratio['middleware_no_tool_over_gateway_same_run']:.2f}x."
        )
    if "change" in summary:
        change = summary["change"]
        lines.append(
            f"- Middleware CPU per request, this tree / baseline `{summary['meta_baseline']}`: "
            f"no tool {change['mw-no-tool']:.2f}x, one tool {change['mw-one-tool']:.2f}x."
        )
    lines.append(
        "- `*-one-tool`: each client request is two model calls through the gateway and one "
        "MCP `tools/call`; the gateway and MCP columns are per client request."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s per scenario")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 1)")
    parser.add_argument("--seconds", type=float, help="seconds per run (default 8; quick 3)")
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--load-core", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--baseline-ref",
        metavar="REF",
        help="also run the middleware as it is at git REF (e.g. main), on the same gateway",
    )
    parser.add_argument("--serve-mcp", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_mcp is not None:
        serve_mcp(args.serve_mcp)
        return 0
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.seconds or (3.0 if args.quick else 8.0)
    command = " ".join(["uv run python bench/middleware_load.py", *(argv or sys.argv[1:])])
    loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    os.sched_setaffinity(0, {args.load_core})  # this process is load: off the servers' core
    work = Path(tempfile.mkdtemp(prefix="toolrelay-mwload-"))
    baseline = export_middleware(args.baseline_ref) if args.baseline_ref else None
    no_tool, one_tool = write_wrk_script(work, NO_TOOL_MODEL), write_wrk_script(work, TOOL_MODEL)
    with running_stack(
        work,
        (NO_TOOL_MODEL, TOOL_MODEL),
        server_core=args.server_core,
        load_core=args.load_core,
        baseline=baseline,
    ) as stack:
        scenarios = [Scenario("gateway", stack.gateway.port, no_tool, None)]
        for prefix, name in (("mw", "middleware"), ("base", "middleware-base")):
            if name in stack.middlewares:
                port = stack.middlewares[name].port
                check_one_tool_loop(port)
                scenarios.append(Scenario(f"{prefix}-no-tool", port, no_tool, name))
                scenarios.append(Scenario(f"{prefix}-one-tool", port, one_tool, name))
        runs = rounds_of(stack, scenarios, rounds=rounds, seconds=seconds, core=args.load_core)
    summary = summarise(scenarios, runs)
    if baseline is not None:
        summary["meta_baseline"] = f"{args.baseline_ref} = {baseline.name.rsplit('-', 1)[1]}"
    summary["meta"] = {
        "command": command,
        "loadavg_start": loadavg,
        "loadavg_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "server_core": args.server_core,
        "load_core": args.load_core,
        "logs": str(work),
    }
    summary["markdown"] = markdown(summary, command, loadavg)
    print(summary["markdown"])
    print(f"logs: {work}")
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
