"""What tracing adds to a request, call by call: an untraced and a traced stack (as in
`tracing_cost.py`: fake upstream, gateway, middleware; spans exported to a local receiver)
take the same chats through the middleware while cProfile counts every call in each
service's event-loop thread. The report lists the functions whose calls per request differ
most, and each service's CPU per request by thread (the event loop, the others: the trace
export thread among them), from the scheduler's per-thread clock.

    uv run python bench/tracing_calls.py [--requests 2000] [--top 40] [--ref COMMIT] [--stream]
        [--tools]  # one execute_sql call per chat (as tracing_cost.py's): the MCP server too

Counts are exact; cProfile's timings are not used (it slows every call it counts). Each
call that tracing adds costs, in a service under load, about what the request's average
call costs, several times what the same code costs in a warm loop (`tracing_spans.py`):
a request touches it once, cold. So the count is the guide to what to cut.
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tracing_cost
from bench.tracing_cost import export_ref, measure, pin, running_receiver, start_stack
from testing.fake_upstream import command_args
from tests.support.processes import free_port, start_service

# In each service: SIGUSR2 starts counting afresh, SIGUSR1 writes the counts so far.
PROFILE_BOOT = (
    "import cProfile, os, signal\n"
    "_profile = {}\n"
    "def _restart(*_):\n"
    "    if 'p' in _profile: _profile['p'].disable()\n"
    "    _profile['p'] = cProfile.Profile(); _profile['p'].enable()\n"
    "def _dump(*_):\n"
    "    _profile['p'].disable()\n"
    "    _profile['p'].dump_stats(f\"{os.environ['BENCH_CALLS_DIR']}/{os.getpid()}.prof\")\n"
    "signal.signal(signal.SIGUSR2, _restart)\n"
    "signal.signal(signal.SIGUSR1, _dump)\n"
)
PROFILED = "count-calls"


def thread_cpu_ns(pid: int) -> dict[int, int]:
    """Each live thread's CPU time so far (schedstat), by thread id."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            found[int(tid)] = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        except OSError:  # the thread ended meanwhile
            continue
    return found


def calls_per_request(path: Path, requests: int) -> dict[str, float]:
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    return {
        f"{Path(file).name}:{line}({name})": calls / requests
        for (file, line, name), (_, calls, _, _, _) in stats.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--ref", help="the code at this ref (default: the work tree)")
    parser.add_argument("--stream", action="store_true", help="streamed chats, as Open WebUI's")
    parser.add_argument(
        "--tools", action="store_true", help="one execute_sql call per chat (postgres MCP server)"
    )
    args = parser.parse_args()
    tracing_cost.PATCHES[PROFILED] = PROFILE_BOOT
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as tmp:
        logs = Path(tmp)
        source = export_ref(args.ref, logs) if args.ref else None
        usable = os.sched_getaffinity(0)
        pin(tracing_cost.LOAD_CPU, usable)
        port = free_port()
        upstream = start_service(
            "fake-upstream", command_args(port, record_limit=1), port=port, log_dir=logs,
            health_path="/health",
        )  # fmt: skip
        env = {"BENCH_CALLS_DIR": tmp}
        model = tracing_cost.TOOL_MODEL if args.tools else tracing_cost.MODEL
        if args.tools:
            httpx.post(
                f"{upstream.url}/__fake__/script", json=tracing_cost.TOOL_SCRIPT
            ).raise_for_status()
        roles = ("middleware", "gateway", *(("mcp",) if args.tools else ()))
        stacks = []
        with running_receiver() as (receiver_url, _):
            try:
                pin(tracing_cost.SERVICE_CPU, usable)
                for name, extra in (
                    ("off", {}),
                    ("on", {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver_url}),
                ):
                    stacks.append(
                        start_stack(
                            name,
                            upstream.url,
                            logs,
                            {**env, **extra},
                            source,
                            PROFILED,
                            args.tools,
                        )
                    )
                pin(tracing_cost.LOAD_CPU, usable)
                measure(
                    stacks, "middleware", 300, args.concurrency, stream=args.stream, model=model
                )  # warm-up
                services = {
                    (stack.name, role): process.process.pid
                    for stack in stacks
                    for role, process in (
                        ("middleware", stack.middleware),
                        ("gateway", stack.gateway),
                        ("mcp", stack.mcp),
                    )
                    if process is not None
                }
                for pid in services.values():
                    os.kill(pid, signal.SIGUSR2)
                time.sleep(1)
                before = {key: thread_cpu_ns(pid) for key, pid in services.items()}
                measure(
                    stacks, "middleware", args.requests, args.concurrency, stream=args.stream,
                    model=model,
                )  # fmt: skip
                time.sleep(6)  # the export thread's last batch of the round
                after = {key: thread_cpu_ns(pid) for key, pid in services.items()}
                for pid in services.values():
                    os.kill(pid, signal.SIGUSR1)
                for pid in services.values():
                    dump = logs / f"{pid}.prof"
                    for _ in range(100):
                        if dump.exists() and dump.stat().st_size:
                            break
                        time.sleep(0.1)
            finally:
                for stack in stacks:
                    stack.stop()
                upstream.stop()
        for role in roles:
            print(f"## {role}")
            for name in ("off", "on"):
                pid = services[(name, role)]
                spent = {
                    tid: (ns - before[(name, role)].get(tid, 0)) / 1e3 / args.requests
                    for tid, ns in after[(name, role)].items()
                }
                loop = spent.pop(pid, 0.0)
                print(f"{name}: CPU per request {loop:.0f} us in the event loop, "
                      f"{sum(spent.values()):.0f} us in other threads")  # fmt: skip
            off = calls_per_request(logs / f"{services[('off', role)]}.prof", args.requests)
            on = calls_per_request(logs / f"{services[('on', role)]}.prof", args.requests)
            print(f"calls per request: off {sum(off.values()):.0f}, on {sum(on.values()):.0f}")
            differing = sorted(
                (on.get(key, 0.0) - off.get(key, 0.0), key) for key in set(off) | set(on)
            )
            differing.sort(key=lambda item: -abs(item[0]))
            print("| calls per request, on - off | function |")
            print("|---|---|")
            for difference, key in differing[: args.top]:
                if abs(difference) >= 0.05:
                    print(f"| {difference:+.2f} | `{key}` |")


if __name__ == "__main__":
    main()
