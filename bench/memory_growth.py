"""Memory under load: RSS growth of the gateway and of the middleware over N requests.

    uv run python bench/memory_growth.py [--requests 100000] [--quick] [--warmup 5000]
                                         [--max-seconds S] [--only gateway,middleware] [--json PATH]
                                         [--baseline-ref REF] [--env KEY=VALUE]

Starts the same processes as bench/middleware_load.py (fake upstream, gateway, a trivial MCP
server, the middleware; gateway and middleware pinned to `--server-core`, the rest to
`--load-core`), then for each target in turn: a warm-up of `--warmup` requests, RSS of its
process tree (statm), then `wrk -t1 -c16` in runs of at most 10 s until N more requests are
done, RSS sampled after each run, and once more at the end.

Every connection sends a fixed cycle of 40 requests (a wrk Lua script):
    2 upstream errors (5%): `error-500` (the router's retries are off, so it is answered at
      once) and `error-400`
    4 streamed (10%): `stream: true`, `size-200` (about 50 SSE events, ~10 kB)
    34 whole: answers of ~0.2 kB (`size-200`) and ~10 kB (`size-10000`), alternating
and the request bodies alternate between a one-line prompt and a ~10 kB one. No request
calls a tool (through the middleware, this is the pass-through path with the MCP tools
offered to the model).

Growth = (RSS at the end - RSS after warm-up) / RSS after warm-up; the goal of issue 24 is at
most 5%. `--quick` sends 10,000 requests per target. With each RSS sample go the target's
resident MB by kind of mapping (bench/smaps.py: the main malloc heap, glibc's per-thread
arenas, other anonymous memory, files) and its thread count, so the table says which grew.
CPU per request is utime+stime of the target's process tree over the measured requests.

`--baseline-ref REF` also starts the gateway as it is at git REF (exported under .cache/, on
the same config and upstream, pinned to the same core) as target `gateway-base`: name it in
`--only` (e.g. `--only gateway-base,gateway`), and swap the order between runs.
`--env KEY=VALUE` (debug) sets a variable for the gateways and the middleware, e.g. glibc's
`MALLOC_ARENA_MAX=2`.

`--tracemalloc DIR` (debug, slows the servers): gateway and middleware start under a wrapper
that writes a tracemalloc snapshot to DIR on SIGUSR1 (the first one also starts tracing); one
is taken after the warm-up and one at the end, and the allocations that grew most between
them (by traceback) are printed and kept in the JSON under `tracemalloc`.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import runpy
import signal
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/...`

from bench.middleware_load import running_stack
from bench.procstat import sample
from bench.services import MASTER_KEY, Launch, Service, export_ref, free_port, gateway_launch, start
from bench.smaps import KINDS, breakdown
from bench.targets import CHAT_PATH
from bench.wrk import run_wrk

MB = 1024 * 1024
CONNECTIONS = 16
CHUNK_SECONDS = 10.0
GOAL_PERCENT = 5.0
MODELS = ("size-200", "size-10000", "error-500", "error-400", "tool-call")
STREAMED = (3, 12, 22, 33)
LONG_PROMPT = "Summarise the following notes in one sentence. " + "lorem ipsum dolor sit " * 460

LUA = """-- a fixed cycle of requests (written by bench/memory_growth.py)
local paths = {{{paths}}}
local headers = {{["Content-Type"] = "application/json",
                 ["Authorization"] = "Bearer {key}"}}
local requests = {{}}
for i, path in ipairs(paths) do
  local f = assert(io.open(path, "rb"))
  requests[i] = wrk.format("POST", nil, headers, f:read("*a"))
  f:close()
end
local n = 0
request = function()
  n = n + 1
  return requests[(n - 1) % #requests + 1]
end
"""


def mix() -> list[dict[str, Any]]:
    """The cycle of 40 request bodies: 5% errors, 10% streamed, small and ~10 kB bodies."""
    bodies: list[dict[str, Any]] = []
    for i in range(40):
        if i in (7, 27):
            model = "error-500" if i == 7 else "error-400"
        elif i in STREAMED:
            # streamed in word-sized chunks: `size-200` is already a ~10 kB SSE body, while a
            # streamed `size-10000` is ~2,000 events, whose cost would drown every other path
            model = "size-200"
        else:
            model = "size-10000" if i % 2 else "size-200"
        prompt = LONG_PROMPT if (i // 2) % 2 else "Say hello to the benchmark."
        body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}]}
        if i in STREAMED:
            body["stream"] = True
        bodies.append(body)
    return bodies


def write_mix_script(directory: Path) -> Path:
    paths = []
    for i, body in enumerate(mix()):
        path = directory / f"mix-{i:02d}.json"
        path.write_bytes(orjson.dumps(body))
        paths.append(path)
    script = directory / "mix.lua"
    quoted = ", ".join(json.dumps(str(p)) for p in paths)
    script.write_text(LUA.format(paths=quoted, key=MASTER_KEY))
    return script


TRACE_FRAMES = 12


def traced(directory: Path) -> Callable[[Launch], Launch]:
    """Launch `python -m MODULE ...` through `run_traced` instead (the same argv after it)."""

    def wrap(launch: Launch) -> Launch:
        python, *rest = launch.argv
        own = [python, str(Path(__file__).resolve()), "--traced", str(directory / launch.name)]
        return dataclasses.replace(launch, argv=[*own, "--", *rest])

    return wrap


def run_traced(directory: Path, argv: list[str]) -> None:
    """Run `-m MODULE args...`; SIGUSR1 writes the next tracemalloc snapshot."""
    if argv[:1] != ["-m"] or len(argv) < 2:
        raise SystemExit(f"--traced runs `-m MODULE ...`, not {argv}")
    directory.mkdir(parents=True, exist_ok=True)
    taken = itertools.count()

    def snapshot(*_: object) -> None:
        # Tracing starts with the first snapshot, after the warm-up: start-up under
        # tracemalloc takes minutes, and what a later snapshot still holds from then on is
        # exactly the memory kept since the baseline.
        if not tracemalloc.is_tracing():
            tracemalloc.start(TRACE_FRAMES)
        path = directory / f"{next(taken)}.snapshot"
        tracemalloc.take_snapshot().dump(str(path.with_suffix(".tmp")))
        path.with_suffix(".tmp").rename(path)  # complete when it appears under its name

    signal.signal(signal.SIGUSR1, snapshot)
    sys.argv = [argv[1], *argv[2:]]
    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)


def take_snapshot(pid: int, directory: Path, index: int, timeout: float = 120.0) -> Path:
    path = directory / f"{index}.snapshot"
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while not path.exists():  # written by the server's signal handler; no other signal
        if time.monotonic() > deadline:
            raise TimeoutError(f"no tracemalloc snapshot from {pid} in {timeout}s")
        time.sleep(0.2)
    return path


def grown(before: Path, after: Path, top: int = 15) -> list[str]:
    """The tracebacks whose live allocations grew most between two snapshots."""
    old, new = tracemalloc.Snapshot.load(str(before)), tracemalloc.Snapshot.load(str(after))
    noise = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = new.filter_traces(noise).compare_to(old.filter_traces(noise), "traceback")
    lines = []
    for stat in stats[:top]:
        frames = " <- ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in stat.traceback)
        lines.append(f"{stat.size_diff / 1024:+.1f} KiB in {stat.count_diff:+d} blocks: {frames}")
    return lines


@dataclass(frozen=True)
class Point:
    requests: int  # done since the warm-up
    rss_mb: float
    mappings_mb: dict[str, float]  # resident MB by kind of mapping (bench/smaps.py)
    threads: int


def point(pid: int, done: int) -> Point:
    found = breakdown(pid)
    return Point(done, sample(pid).rss_bytes / MB, found.mb(), found.threads)


def growth(
    pid: int,
    url: str,
    script: Path,
    *,
    requests: int,
    warmup: int,
    core: int,
    max_seconds: float | None = None,
    snapshots: Path | None = None,
) -> dict[str, Any]:
    """`max_seconds`: stop sending after this much load (the result says how many were sent).
    `snapshots`: the target runs under `run_traced`, writing its snapshots here."""
    done, errors, seconds, rate = 0, 0, 0.0, 0.0
    while done < warmup:  # the first run also tells the rate
        run = run_wrk(url, script, seconds=3, connections=CONNECTIONS, core=core)
        done += run.requests
        rate = run.requests_per_second
    if snapshots is not None:
        take_snapshot(pid, snapshots, 0)
    points = [point(pid, 0)]
    after_warmup = points[0].rss_mb * MB
    cpu_start = sample(pid).cpu_seconds
    done = 0
    started = time.monotonic()
    while done < requests and (max_seconds is None or seconds < max_seconds):
        left = (requests - done) / max(rate, 1.0)
        if max_seconds is not None:
            left = min(left, max_seconds - seconds)
        run = run_wrk(
            url,
            script,
            seconds=max(1.0, min(CHUNK_SECONDS, left)),
            connections=CONNECTIONS,
            core=core,
        )
        done += run.requests
        errors += run.errors
        seconds += run.seconds
        rate = run.requests_per_second or rate
        points.append(point(pid, done))
    end_sample = sample(pid)
    end = end_sample.rss_bytes
    traced_growth = {}
    if snapshots is not None:
        after = take_snapshot(pid, snapshots, 1)
        traced_growth["tracemalloc"] = grown(snapshots / "0.snapshot", after)
    return traced_growth | {
        "requests": done,
        "requests_asked": requests,
        "errors_non_2xx_or_socket": errors,
        "seconds": round(seconds, 1),
        "wall_seconds": round(time.monotonic() - started, 1),
        "rps": done / seconds if seconds else float("nan"),
        "cpu_us_per_request": (end_sample.cpu_seconds - cpu_start) / done * 1e6
        if done
        else float("nan"),
        "rss_after_warmup_mb": after_warmup / MB,
        "rss_end_mb": end / MB,
        "rss_max_mb": max(p.rss_mb for p in points),
        "growth_percent": (end - after_warmup) / after_warmup * 100,
        "samples": [[p.requests, round(p.rss_mb, 2)] for p in points],
        "mappings_mb": {"after_warmup": points[0].mappings_mb, "end": points[-1].mappings_mb},
        "mapping_samples": [[p.requests, p.threads, p.mappings_mb] for p in points],
    }


def markdown(results: dict[str, Any], command: str, loadavg: str) -> str:
    lines = [
        f"`{command}` (load average at start {loadavg}); wrk -t1 -c{CONNECTIONS}, a cycle of "
        "40 requests: 5% upstream errors, 10% streamed, ~0.2 kB and ~10 kB bodies both ways.",
        "",
        "| target | requests | req/s | CPU us/request | non-2xx | RSS after warm-up MB "
        "| RSS end MB | RSS max MB | growth % | goal <= 5% |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in results["targets"].items():
        verdict = "met" if row["growth_percent"] <= GOAL_PERCENT else "NOT met"
        if row["requests"] < row["requests_asked"]:
            verdict += f" (only {row['requests']:,} of {row['requests_asked']:,} sent)"
        lines.append(
            f"| {name} | {row['requests']:,} | {row['rps']:.0f} | "
            f"{row['cpu_us_per_request']:.0f} | "
            f"{row['errors_non_2xx_or_socket']:,} | {row['rss_after_warmup_mb']:.1f} | "
            f"{row['rss_end_mb']:.1f} | {row['rss_max_mb']:.1f} | "
            f"{row['growth_percent']:+.2f} | {verdict} |"
        )
    lines += [
        "",
        "Non-2xx are the scripted upstream errors (expected: 5% of requests).",
        "",
        "Where the growth is (resident MB by kind of mapping, bench/smaps.py; the target's "
        "main process), after warm-up -> end, and its thread count:",
        "",
        "| target | threads | " + " | ".join(KINDS) + " |",
        "|---|---|" + "---|" * len(KINDS),
    ]
    for name, row in results["targets"].items():
        first, last = row["mapping_samples"][0], row["mapping_samples"][-1]
        cells = [f"{first[2][kind]:.1f} -> {last[2][kind]:.1f}" for kind in KINDS]
        lines.append(f"| {name} | {first[1]} -> {last[1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@contextmanager
def baseline_gateway(
    ref: str | None, work: Path, core: int, wrap: Callable[[Launch], Launch]
) -> Iterator[Service | None]:
    """The gateway at git `ref` (exported under .cache/) on the stack's config and upstream,
    pinned like the other one; stopped by PID on the way out."""
    if ref is None:
        yield None
        return
    launch = gateway_launch(
        work / "gateway.yaml", free_port(), name="toolrelay-base", source=export_ref(ref)
    )
    service = start(wrap(launch), core, work, timeout=180)
    try:
        yield service
    finally:
        service.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, help="per target (default 100000; quick 10000)")
    parser.add_argument("--warmup", type=int, default=5000, help="requests before the baseline")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--max-seconds",
        type=float,
        help="per target, stop the load after this long even if fewer requests were sent",
    )
    parser.add_argument(
        "--only",
        default="gateway,middleware",
        help="targets, comma-separated, measured in this order (gateway-base: see --baseline-ref)",
    )
    parser.add_argument(
        "--baseline-ref",
        metavar="REF",
        help="also start the gateway as it is at git REF, as target gateway-base",
    )
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--load-core", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--tracemalloc", type=Path, metavar="DIR", help="debug: snapshot diffs (see above)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="debug: set in the environment of the gateway and the middleware (repeatable)",
    )
    parser.add_argument("--traced", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.traced is not None:
        run_traced(args.traced, args.command)
        return 0
    requests = args.requests or (10_000 if args.quick else 100_000)
    warmup = min(args.warmup, 2000) if args.quick else args.warmup
    command = " ".join(["uv run python bench/memory_growth.py", *(argv or sys.argv[1:])])
    loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    # stopped with SIGTERM (a long run), still stop every server on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.sched_setaffinity(0, {args.load_core})  # this process is load: off the servers' core
    work = Path(tempfile.mkdtemp(prefix="toolrelay-memory-"))
    script = write_mix_script(work)
    results: dict[str, Any] = {"targets": {}}
    trace = traced(args.tracemalloc.resolve()) if args.tracemalloc else (lambda launch: launch)
    extra_env = dict(item.split("=", 1) for item in args.env)

    def wrap(launch: Launch) -> Launch:
        return trace(dataclasses.replace(launch, env=launch.env | extra_env))

    with (
        running_stack(
            work, MODELS, server_core=args.server_core, load_core=args.load_core, wrap=wrap
        ) as stack,
        baseline_gateway(args.baseline_ref, stack.work, args.server_core, wrap) as base,
    ):
        services = {"gateway": stack.gateway, "middleware": stack.middleware}
        if base is not None:
            services["gateway-base"] = base
        for name in args.only.split(","):
            service = services[name]
            row = growth(
                service.pid,
                f"http://127.0.0.1:{service.port}{CHAT_PATH}",
                script,
                requests=requests,
                warmup=warmup,
                core=args.load_core,
                max_seconds=args.max_seconds,
                snapshots=args.tracemalloc.resolve() / service.launch.name
                if args.tracemalloc
                else None,
            )
            results["targets"][name] = row
            # a long run: say each target's figure as soon as it is known
            print(f"{name}: {json.dumps(row)}", flush=True)
    results["meta"] = {
        "command": command,
        "loadavg_start": loadavg,
        "loadavg_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "logs": str(work),
    }
    results["markdown"] = markdown(results, command, loadavg)
    print(results["markdown"])
    print(f"logs: {work}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
