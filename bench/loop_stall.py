"""Event-loop stalls of the gateway at saturation: how long single callbacks hold its loop.

```
uv run python bench/loop_stall.py [--baseline-ref REF] [--rounds 3] [--seconds 10] [--json PATH]
```

Starts the fake upstream and the gateway (this tree as `toolrelay`, and with `--baseline-ref` the
code at REF as `toolrelay-base`, both as `bench/run.py` starts them, pinned to `--server-core`),
each under a wrapper (`--clocked`) that runs `python -m toolrelay ...` in-process on asyncio's
own event loop with `Handle._run` timed: every callback the loop runs (a task step, a timer, an
I/O callback) is measured in the thread's CPU time and in wall time. A stall is one callback:
while it runs, no request on the loop moves. The timing only runs between SIGUSR1 and SIGUSR2
(SIGUSR2 also writes it out), so an idle target costs nothing while the other is loaded. The
wrapper is the same for both targets, and the gateway code under test has no part in it.

Why not a 1 ms ticker task: at saturation (`wrk -c64`) a ticker wakes one loop iteration late,
and an iteration runs the ready callbacks of dozens of requests (20-40 ms on the loaded 2-core
machine), so its lateness measures the iteration, not the stall. Why not uvloop: it runs the
callbacks in C, where they cannot be timed one by one. The asyncio loop and the timing (two
clock pairs a callback) make the req/s and CPU per request of this bench lower than
`bench/run.py`'s; both targets pay the same, and `bench/run.py` is the judge of those.

Per round and target (interleaved, the first target rotating): 2 s of `wrk -c64` warm-up, then
timing on, `wrk -t1 -c64` for `--seconds`, timing off. Reported per target, medians over the
rounds: the longest callback (CPU and wall; wall includes time off the core), the p99.9 and
p99 of all callbacks' CPU time (50 us bins), the number of callbacks over 5 ms CPU and their
summed CPU per second of load, the longest callback of the spend writer's task and all of
that task's CPU on the loop per request (one spend row a request), and the longest garbage
collection (`gc.callbacks`, any generation) with the number of full ones. The spend writer flushes
every 2 s by default, so a 10 s run holds about five flushes. Each round also gives wrk's own latency p50 and p99.

With `--plain` the gateways run as `bench/run.py` runs them (uvloop, nothing timed) and each
round reports only wrk's latency p50 and p99, req/s and CPU per request at saturation: the
tail itself, which `bench/run.py`'s saturation figure does not report.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import gc
import json
import math
import os
import re
import runpy
import signal
import subprocess
import sys
import time
from array import array
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/loop_stall.py`

from bench.load import write_wrk_script
from bench.procstat import sample
from bench.services import (
    REPO,
    Launch,
    Service,
    export_ref,
    fake_upstream_launch,
    free_port,
    gateway_launch,
    start,
    write_config,
)
from bench.stats import median
from bench.targets import CHAT_PATH, Target, rotate
from bench.wrk import _UNITS, WrkResult, parse_output, run_wrk

BIN_PER_MS = 20  # histogram of callback CPU times: 50 us bins
BINS = 200 * BIN_PER_MS  # up to 200 ms; longer ones are counted in the last bin
LONG_MS = 2.0  # callbacks longer than this (CPU or wall) are kept one by one
STALL_MS = 5.0
WRITER_TASK = "spend-writer"  # the name `gateway.spend.writer` gives its task
WARMUP_SECONDS = 2.0


# ---- inside the gateway process ---------------------------------------------------------


class _CallbackClock:
    """Times every callback the event loop runs (asyncio's `Handle._run`: a task step, a
    timer, an I/O callback), in the thread's CPU time and in wall time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.on = False
        self.hist = array("q", bytes(8 * BINS))
        self.long: list[tuple[float, float, str]] = []  # (cpu ms, wall ms, task)
        self.writer_ms = 0.0  # every callback of the spend writer's task, CPU
        self.gc: list[tuple[int, float]] = []  # (generation, ms) of each collection
        self._gc_started = 0.0
        self.dumps = 0

    def _collection(self, phase: str, info: dict[str, int]) -> None:
        if not self.on:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc.append((info["generation"], (time.perf_counter() - self._gc_started) * 1e3))

    def install(self) -> None:
        run = asyncio.events.Handle._run
        wall, cpu = time.perf_counter, time.thread_time

        def timed(handle: asyncio.events.Handle) -> None:
            if not self.on:
                run(handle)
                return
            started, used = wall(), cpu()
            run(handle)
            used_ms, wall_ms = (cpu() - used) * 1e3, (wall() - started) * 1e3
            self.hist[min(int(used_ms * BIN_PER_MS), BINS - 1)] += 1
            name = _task_name(handle)
            if name == WRITER_TASK:
                self.writer_ms += used_ms
            if used_ms > LONG_MS or wall_ms > LONG_MS:
                self.long.append((used_ms, wall_ms, name))

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]
        gc.callbacks.append(self._collection)

    def start(self) -> None:
        self.hist = array("q", bytes(8 * BINS))
        self.long = []
        self.writer_ms = 0.0
        self.gc = []
        self.on = True

    def stop(self) -> None:
        self.on = False
        path = self.directory / f"{self.dumps}.json"
        self.dumps += 1
        data = {
            "hist": list(self.hist),
            "long": self.long,
            "writer_ms": self.writer_ms,
            "gc": self.gc,
        }
        path.with_suffix(".tmp").write_text(json.dumps(data))
        path.with_suffix(".tmp").rename(path)  # complete when it appears under its name


def _task_name(handle: asyncio.events.Handle) -> str:
    """The name of the task a callback steps (the spend writer's is `spend-writer`), or ""."""
    owner = getattr(handle._callback, "__self__", None)  # type: ignore[attr-defined]
    return owner.get_name() if isinstance(owner, asyncio.Task) else ""


def run_clocked(directory: Path, argv: list[str]) -> None:
    """Run `-m MODULE args...` in this process, on asyncio's own loop with every callback
    timed (uvloop runs its callbacks in C, where they cannot be timed one by one)."""
    if argv[:1] != ["-m"] or len(argv) < 2:
        raise SystemExit(f"--clocked runs `-m MODULE ...`, not {argv}")
    import uvicorn.config
    import uvicorn.server

    directory.mkdir(parents=True, exist_ok=True)
    clock = _CallbackClock(directory)
    clock.install()
    serve = uvicorn.server.Server.serve

    async def clocked_serve(self: uvicorn.server.Server, sockets: Any = None) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, clock.start)
        loop.add_signal_handler(signal.SIGUSR2, clock.stop)
        await serve(self, sockets)

    def asyncio_loop(_config: uvicorn.config.Config) -> Any:
        return asyncio.new_event_loop

    uvicorn.server.Server.serve = clocked_serve  # type: ignore[method-assign]
    uvicorn.config.Config.get_loop_factory = asyncio_loop  # type: ignore[method-assign,assignment]
    # as `python -m` would: the working directory (a baseline export) first on sys.path;
    # nothing of the code under test may be imported before this point
    loaded = {name.partition(".")[0] for name in sys.modules} & {"gateway", "toolrelay", "common"}
    if loaded:
        raise SystemExit(f"--clocked imported {sorted(loaded)} from the wrong tree")
    sys.path[0] = os.getcwd()
    sys.argv = [argv[1], *argv[2:]]
    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)


def clocked(directory: Path, launch: Launch) -> Launch:
    python, *rest = launch.argv
    own = [python, str(Path(__file__).resolve()), "--clocked", str(directory / launch.name)]
    return dataclasses.replace(launch, argv=[*own, "--", *rest])


# ---- the bench --------------------------------------------------------------------------


def _clocked(target: Target, directory: Path, index: int, timeout: float = 30.0) -> Any:
    path = directory / target.name / f"{index}.json"
    os.kill(target.pid, signal.SIGUSR2)
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no callback times from {target.name} in {timeout}s")
        time.sleep(0.05)
    return json.loads(path.read_text())


def _hist_percentile(hist: list[int], q: float) -> float:
    """The upper edge (ms) of the bin holding the q-th percentile of the callbacks."""
    rank, seen = sum(hist) * q / 100, 0
    for index, count in enumerate(hist):
        seen += count
        if seen >= rank:
            return (index + 1) / BIN_PER_MS
    return math.nan


def _wrk_latency(
    url: str, script: Path, args: argparse.Namespace
) -> tuple[WrkResult, dict[str, float]]:
    """`wrk --latency`: the summary, and its p50 and p99 in ms (of the requests that ended)."""
    argv = ["taskset", "-c", str(args.load_core), "wrk", "-t1", "--timeout", "10s", "--latency"]
    argv += [f"-c{args.connections}", f"-d{max(1, round(args.seconds))}s", "-s", str(script), url]
    text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    found = {
        m.group(1): float(m.group(2)) * _UNITS[m.group(3)] * 1e3
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s) *$", text, re.MULTILINE)
    }
    if set(found) != {"50", "99"}:
        raise ValueError(f"no latency distribution in wrk's output: {text[-600:]!r}")
    return parse_output(text), {"wrk_p50_ms": found["50"], "wrk_p99_ms": found["99"]}


def _round(
    target: Target, script: Path, directory: Path, index: int, args: argparse.Namespace
) -> dict[str, float]:
    url = target.url + CHAT_PATH
    run_wrk(url, script, seconds=WARMUP_SECONDS, connections=args.connections, core=args.load_core)
    before = sample(target.pid)
    if args.plain:
        wrk, latency = _wrk_latency(url, script, args)
        after = sample(target.pid)
        return latency | {
            "wrk_p99_over_p50": latency["wrk_p99_ms"] / latency["wrk_p50_ms"],
            "rps": wrk.requests_per_second,
            "errors": wrk.errors,
            "cpu_us": (after.cpu_seconds - before.cpu_seconds) / wrk.requests * 1e6,
        }
    os.kill(target.pid, signal.SIGUSR1)
    wrk, latency = _wrk_latency(url, script, args)
    timed = _clocked(target, directory, index)
    after = sample(target.pid)
    hist, long = timed["hist"], timed["long"]
    cpu = [c for c, _, _ in long]
    over = [c for c in cpu if c > STALL_MS]
    return {
        "max_cpu_ms": max(cpu, default=0.0),
        "max_wall_ms": max((w for _, w, _ in long), default=0.0),
        "max_writer_cpu_ms": max((c for c, _, t in long if t == WRITER_TASK), default=0.0),
        "p999_ms": _hist_percentile(hist, 99.9),
        "p99_ms": _hist_percentile(hist, 99),
        "stalls": len(over),
        "stall_ms_per_s": sum(over) / wrk.seconds,
        "callbacks_per_request": sum(hist) / wrk.requests,
        "writer_us_per_request": timed["writer_ms"] * 1e3 / wrk.requests,
        "gc2_count": sum(1 for g, _ in timed["gc"] if g == 2),
        "gc_max_ms": max((ms for _, ms in timed["gc"]), default=0.0),
        "rps": wrk.requests_per_second,
        "errors": wrk.errors,
        "cpu_us": (after.cpu_seconds - before.cpu_seconds) / wrk.requests * 1e6,
    } | latency


FIELDS = (
    ("max_cpu_ms", "longest callback, CPU ms"),
    ("max_wall_ms", "longest callback, wall ms"),
    ("max_writer_cpu_ms", f"longest spend-writer callback, CPU ms (0: none over {LONG_MS:g})"),
    ("p999_ms", "p99.9 of callbacks, CPU ms"),
    ("p99_ms", "p99 of callbacks, CPU ms"),
    ("stalls", f"callbacks over {STALL_MS:g} ms CPU"),
    ("stall_ms_per_s", "their CPU, ms per s of load"),
    ("callbacks_per_request", "callbacks per request"),
    ("writer_us_per_request", "spend writer's CPU on the loop, us per request"),
    ("gc_max_ms", "longest garbage collection, wall ms"),
    ("gc2_count", "full (generation 2) collections"),
    ("rps", "req/s (asyncio loop, timed)"),
    ("cpu_us", "CPU per request, us (asyncio loop, timed)"),
    ("wrk_p50_ms", "wrk latency p50, ms (asyncio loop, timed)"),
    ("wrk_p99_ms", "wrk latency p99, ms (asyncio loop, timed)"),
    ("errors", "errors"),
)
PLAIN_FIELDS = (
    ("wrk_p50_ms", "wrk latency p50, ms"),
    ("wrk_p99_ms", "wrk latency p99, ms"),
    ("wrk_p99_over_p50", "p99 / p50"),
    ("rps", "req/s"),
    ("cpu_us", "CPU per request, us"),
    ("errors", "errors"),
)


def _table(rounds: dict[str, list[dict[str, float]]], fields: tuple[tuple[str, str], ...]) -> str:
    names = list(rounds)
    lines = [
        "| figure: median of rounds (each round) | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key, label in fields:
        cells = []
        for name in names:
            values = [r[key] for r in rounds[name]]
            each = ", ".join(f"{v:.2f}" for v in values)
            cells.append(f"{median(values):.2f} ({each})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/loop_stall.py", description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-ref", metavar="REF")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--model", default="size-200")
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--load-core", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="run the gateways as bench/run.py does (uvloop, nothing timed) and report only "
        "wrk's latency p50/p99, req/s and CPU per request at saturation",
    )
    parser.add_argument("--clocked", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.clocked is not None:
        run_clocked(args.clocked, args.command)
        return 0
    os.sched_setaffinity(0, {args.load_core})
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"loop-stall-{stamp}"
    logs = out / "logs"
    logs.mkdir(parents=True)
    clocks = out / "callbacks"
    command = " ".join(["uv run python bench/loop_stall.py", *(argv or sys.argv[1:])])
    meta: dict[str, Any] = {"command": command, "loadavg": os.getloadavg()}
    services: list[Service] = []
    try:
        upstream = start(fake_upstream_launch(free_port()), args.load_core, logs)
        services.append(upstream)
        config = write_config(out / "config.yaml", upstream.port)
        launches = [gateway_launch(config, free_port())]
        if args.baseline_ref:
            source = export_ref(args.baseline_ref)
            meta["baseline_ref"] = f"{args.baseline_ref} = {source.name[9:]}"
            launches.append(
                gateway_launch(config, free_port(), name="toolrelay-base", source=source)
            )
        targets = []
        for launch in launches:
            wrapped = launch if args.plain else clocked(clocks, launch)
            service = start(wrapped, args.server_core, logs, timeout=180)
            services.append(service)
            targets.append(Target(launch.name, service.port, service.pid))
        script = write_wrk_script(out, args.model)
        rounds: dict[str, list[dict[str, float]]] = {t.name: [] for t in targets}
        for index in range(args.rounds):
            for target in rotate(targets, index):
                result = _round(target, script, clocks, index, args)
                rounds[target.name].append(result)
                print(target.name, index, json.dumps({k: round(v, 2) for k, v in result.items()}))
    finally:
        for service in reversed(services):
            service.stop()
    meta["loadavg_end"] = os.getloadavg()
    table = _table(rounds, PLAIN_FIELDS if args.plain else FIELDS)
    print(f"\n`{command}`, load average {meta['loadavg']} -> {meta['loadavg_end']}\n\n{table}")
    if args.json is not None:
        args.json.write_text(json.dumps({"meta": meta, "rounds": rounds, "markdown": table}))
    (out / "results.json").write_text(json.dumps({"meta": meta, "rounds": rounds}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
