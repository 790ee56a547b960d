"""The benchmark, in one command: `uv run python bench/run.py [--quick]`.

Starts the fake upstream, toolrelay's gateway and LiteLLM (same config file), pins the two
gateways to one core and the load generators plus fake upstream to the other, measures every
figure side by side in one run, and writes `bench/results/<stamp>/results.json`,
`.../report.md`, and a copy of the report to `bench/RESULTS.md`. See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/run.py`

from bench import latency, load
from bench.coldstart import cold_starts
from bench.litellm_env import ensure_litellm
from bench.procstat import sample
from bench.report import render
from bench.services import (
    REPO,
    Launch,
    Service,
    export_ref,
    fake_upstream_launch,
    free_port,
    gateway_launch,
    litellm_launch,
    start,
    write_config,
    write_litellm_log_config,
)
from bench.targets import Target

BENCH = REPO / "bench"
MIDDLEWARE_BENCH = BENCH / "middleware_loop.py"


@dataclass(frozen=True)
class Profile:
    c1_rounds: int
    c1_per_round: int
    c1_models: tuple[str, ...]
    stream_rounds: int
    stream_per_round: int
    sat_rounds: int
    sat_seconds: float
    sat_models: tuple[str, ...]
    open_rates: tuple[int, ...]
    open_rounds: int
    open_seconds: float
    growth_requests: int
    growth_max_seconds: float
    cold_runs: int
    cold_runs_litellm: int


QUICK = Profile(
    4, 100, ("size-200",), 2, 5, 1, 3, ("size-200",), (100, 500, 1000), 1, 2, 10_000, 20, 3, 2
)
FULL = Profile(
    10,
    200,
    ("size-200", "size-10000"),
    5,
    10,
    3,
    5,
    ("size-200", "size-10000"),
    (100, 500, 1000),
    3,
    5,
    100_000,
    240,
    5,
    3,
)
STREAM_MODEL, STREAM_CHUNK_DELAY_S = "slow-stream-10", 0.010
CONNECTIONS = 64
# Fewer for the long memory run, so a slow server still completes requests within wrk's runs.
GROWTH_CONNECTIONS = 16
MB = 1024 * 1024


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long runs for development")
    parser.add_argument("--no-litellm", action="store_true", help="skip LiteLLM")
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--load-core", type=int, default=0)
    parser.add_argument(
        "--baseline-ref",
        metavar="REF",
        action="append",
        default=[],
        help="also run the gateway at git REF (e.g. main) as target 'toolrelay-base'; "
        "repeat for more refs (targets 'toolrelay-<sha>', in results.json)",
    )
    parser.add_argument(
        "--server",
        metavar="NAME",
        action="append",
        default=[],
        choices=["uvicorn", "granian"],
        help="also run this tree's gateway under ASGI server NAME as target 'toolrelay-NAME' "
        "(the 'toolrelay' target runs the default server)",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        type=int,
        action="append",
        default=[],
        help="also run this tree's gateway with N workers as target 'toolrelay-wN', on both "
        "cores (it shares a core with the load generator: read its ratio with that in mind)",
    )
    parser.add_argument(
        "--sat-rounds",
        type=int,
        metavar="N",
        help="saturation rounds per target (interleaved A/B); default 1 quick, 3 full",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma list of figures: c1,stream,sat,open,growth,cold,mw,mwload,memory",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    profile = QUICK if args.quick else FULL
    if args.sat_rounds:
        profile = dataclasses.replace(profile, sat_rounds=args.sat_rounds)
    only = set(filter(None, args.only.split(",")))

    def wanted(figure: str) -> bool:
        return not only or figure in only

    os.sched_setaffinity(
        0, {args.load_core}
    )  # this process generates load: keep it off the servers' core
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = BENCH / "results" / stamp
    logs = out / "logs"
    logs.mkdir(parents=True)
    results: dict[str, Any] = {
        "meta": {
            "started": stamp,
            "mode": "quick" if args.quick else "full",
            "command": " ".join(["uv run python bench/run.py", *(argv or sys.argv[1:])]),
            "host": f"{platform.node()} {os.cpu_count()} cpus, Python {platform.python_version()}",
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "server_core": args.server_core,
            "load_core": args.load_core,
        },
        "notes": [],
    }
    litellm_python = None if args.no_litellm else ensure_litellm(REPO)
    services: list[Service] = []
    try:
        upstream = start(fake_upstream_launch(free_port()), args.load_core, logs)
        services.append(upstream)
        config = write_config(out / "config.yaml", upstream.port)
        log_config = write_litellm_log_config(out / "uvicorn-log.json")
        launches: dict[str, Callable[[], Launch]] = {
            "toolrelay": lambda: gateway_launch(config, free_port())
        }
        cores: dict[str, int | str] = {}
        for server in args.server:
            launches[f"toolrelay-{server}"] = lambda server=server: gateway_launch(
                config, free_port(), name=f"toolrelay-{server}", server=server
            )
        for workers in args.workers:
            launches[f"toolrelay-w{workers}"] = lambda workers=workers: gateway_launch(
                config, free_port(), name=f"toolrelay-w{workers}", workers=workers
            )
            cores[f"toolrelay-w{workers}"] = f"{args.server_core},{args.load_core}"
        for index, ref in enumerate(args.baseline_ref):
            source = export_ref(ref)
            name = "toolrelay-base" if index == 0 else f"toolrelay-{source.name[9:]}"
            if index == 0:
                results["meta"]["baseline_ref"] = f"{ref} = {source.name[9:]}"
            launches[name] = lambda name=name, source=source: gateway_launch(
                config, free_port(), name=name, source=source
            )
        if litellm_python is not None:
            launches["litellm"] = lambda: litellm_launch(
                litellm_python, config, free_port(), log_config
            )
        targets = [Target("direct", upstream.port, upstream.pid)]
        results["rss_idle_mb"] = {"direct": sample(upstream.pid).rss_bytes / MB}
        for name, make in launches.items():
            service = start(make(), cores.get(name, args.server_core), logs, timeout=180)
            services.append(service)
            results["rss_idle_mb"][name] = sample(service.pid).rss_bytes / MB
            targets.append(Target(name, service.port, service.pid))
        for t in targets:
            for model in {*profile.c1_models, *profile.sat_models}:
                if not load.single_request_ok(t, model):
                    raise SystemExit(f"{t.name} does not answer {model} with 200; see {logs}")
        _measure(results, targets, profile, args, out, wanted)
        for service in services[1:]:
            service.stop()
        if wanted("cold"):
            results["cold_start"] = {}
            for name, make in launches.items():
                runs = (
                    profile.cold_runs if name.startswith("toolrelay") else profile.cold_runs_litellm
                )
                results["cold_start"][name] = cold_starts(
                    make, runs=runs, core=cores.get(name, args.server_core), log_dir=logs
                )
        if wanted("mw"):
            _middleware(results, args.quick, out)
        for figure, name in (("mwload", "middleware_load"), ("memory", "memory_growth")):
            if wanted(figure):
                _middleware(results, args.quick, out, BENCH / f"{name}.py", name)
    finally:
        for service in reversed(services):
            service.stop()
    results["meta"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    report = render(results)
    (out / "report.md").write_text(report)
    shutil.copyfile(out / "report.md", BENCH / "RESULTS.md")
    print(report)
    print(f"results: {out / 'results.json'}")
    return 0


def _measure(
    results: dict[str, Any],
    targets: list[Target],
    profile: Profile,
    args: argparse.Namespace,
    out: Path,
    wanted: Any,
) -> None:
    by_name = {t.name: t for t in targets}
    if wanted("c1"):
        for model in profile.c1_models:
            samples = latency.sequential_latency(
                targets, model, rounds=profile.c1_rounds, per_round=profile.c1_per_round
            )
            results[f"overhead_{model}"] = latency.overhead_table(samples)
    if wanted("stream"):
        stream = latency.streaming_latency(
            targets, STREAM_MODEL, rounds=profile.stream_rounds, per_round=profile.stream_per_round
        )
        results["streaming"] = latency.streaming_table(stream, STREAM_CHUNK_DELAY_S)
    if wanted("sat"):
        for model in profile.sat_models:
            script = load.write_wrk_script(out, model)
            runs = load.saturation(
                targets,
                script,
                rounds=profile.sat_rounds,
                seconds=profile.sat_seconds,
                connections=CONNECTIONS,
                core=args.load_core,
            )
            results[f"saturation_{model}"] = load.saturation_table(runs)
        sat = results["saturation_size-200"]
        direct, ours = sat["direct"]["rps_median"], sat["toolrelay"]["rps_median"]
        results["fake_upstream_check"] = {
            "direct_rps": direct,
            "toolrelay_rps": ours,
            "ratio": direct / ours,
            "ok": direct >= 3 * ours,
        }
    if wanted("open"):
        ol = load.open_loop(
            targets,
            "size-200",
            rates=list(profile.open_rates),
            rounds=profile.open_rounds,
            seconds=profile.open_seconds,
        )
        results["open_loop"] = load.open_loop_table(ol)
    if wanted("growth"):
        script = load.write_wrk_script(out, "size-200")
        results["rss_growth"] = {}
        for name in ("toolrelay", "litellm"):
            if name in by_name:
                results["rss_growth"][name] = load.rss_growth(
                    by_name[name],
                    script,
                    requests=profile.growth_requests,
                    # LiteLLM is slow enough that 100k requests would take the whole run
                    max_seconds=profile.growth_max_seconds / (1 if name == "toolrelay" else 2),
                    connections=GROWTH_CONNECTIONS,
                    core=args.load_core,
                )


def _middleware(
    results: dict[str, Any],
    quick: bool,
    out: Path,
    script: Path = MIDDLEWARE_BENCH,
    key: str = "middleware",
) -> None:
    """Hook for a standalone benchmark script (bench/middleware_loop.py by default; also
    middleware_load.py and memory_growth.py). Contract: it runs standalone, accepts
    `--json PATH` (and `--quick`), and writes a JSON object; a `markdown` key, if present,
    is pasted into the report."""
    if not script.exists():
        results["notes"].append(f"{key} figures: bench/{script.name} not present")
        return
    target = out / f"{key}.json"
    argv = [sys.executable, str(script), "--json", str(target)]
    done = subprocess.run([*argv, *(["--quick"] if quick else [])], cwd=REPO, check=False)
    if done.returncode != 0 or not target.exists():
        results["notes"].append(f"{key} benchmark failed (exit {done.returncode})")
        return
    results[key] = json.loads(target.read_text())


if __name__ == "__main__":
    sys.exit(main())
