"""Profile the gateway under saturation: where its CPU goes, by function, self and cumulative.

    uv run python bench/profile.py [--seconds 15] [--rate 100] [--virtual-key] [--top 25] [--ref REF]

Starts the fake upstream and the gateway exactly as `bench/run.py` does (same config: master
key, SQLite store in a fresh TOOLRELAY_HOME, no Redis; gateway pinned to `--server-core`, the
rest to `--load-core`), optionally generates a virtual key through `/key/generate` and sends
the load with it, warms up, then samples the gateway with py-spy (attached by PID,
idle frames excluded) while `wrk -c64` saturates it. Writes the raw collapsed
stacks and a speedscope file under `bench/results/profile-<stamp>/`, and prints the top
functions by self and by cumulative share of the samples.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/profile.py`

import orjson
import yaml

from bench.load import write_wrk_script
from bench.rawhttp import BlockingClient, build_request
from bench.services import (
    MASTER_KEY,
    REPO,
    export_ref,
    fake_upstream_launch,
    free_port,
    gateway_launch,
    start,
    write_config,
)
from bench.targets import CHAT_PATH
from bench.wrk import lua_script, run_wrk

CONNECTIONS = 64


def generate_virtual_key(port: int) -> str:
    body = orjson.dumps({"models": ["size-200"], "max_budget": 1e9})
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    client = BlockingClient("127.0.0.1", port)
    try:
        response = client.request(
            build_request("POST", "/key/generate", f"127.0.0.1:{port}", body, headers)
        )
    finally:
        client.close()
    if response.status != 200:
        raise SystemExit(f"/key/generate answered {response.status}: {response.body[:300]!r}")
    return str(orjson.loads(response.body)["key"])


def allow_unpriced(config: Path) -> None:
    """The bench's models have no price, and a key with a budget is refused on an unpriced
    model unless the config allows it; the profile wants the budget checks on the hot path."""
    data = yaml.safe_load(config.read_text())
    data.setdefault("general_settings", {})["allow_unpriced_models"] = True
    config.write_text(yaml.safe_dump(data, sort_keys=False))


def frame_name(frame: str) -> str:
    """py-spy's `func (path/to/module.py:line)` without the directory prefix."""
    func, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", str(REPO) + "/"):
        path = path.split(marker, 1)[-1]
    return f"{func} ({path})"


def tally(collapsed: str) -> tuple[int, Counter[str], Counter[str]]:
    """Samples of the event-loop thread only. py-spy counts a thread that waits in C with the
    GIL released (aiosqlite's worker inside sqlite3) as busy; its real CPU is small (read
    /proc/PID/task/*/stat), and it is not the thread that serves requests."""
    total, own, cumulative = 0, Counter[str](), Counter[str]()
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit() or stack.startswith("Thread._bootstrap"):
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            cumulative[name] += count
    return total, own, cumulative


def table(title: str, counts: Counter[str], total: int, top: int) -> str:
    lines = [f"| {title} | % of samples |", "|---|---:|"]
    lines += [f"| `{name}` | {n / total * 100:.1f} |" for name, n in counts.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/profile.py", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--virtual-key", action="store_true", help="load with a virtual key")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--ref", help="profile the gateway as it is at git REF instead")
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--load-core", type=int, default=0)
    args = parser.parse_args(argv)

    os.sched_setaffinity(0, {args.load_core})
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"profile-{stamp}"
    logs = out / "logs"
    logs.mkdir(parents=True)
    upstream = start(fake_upstream_launch(free_port()), args.load_core, logs)
    gateway = None
    try:
        config = write_config(out / "config.yaml", upstream.port)
        if args.virtual_key:
            allow_unpriced(config)
        source = export_ref(args.ref) if args.ref else REPO
        launch = gateway_launch(config, free_port(), source=source)
        gateway = start(launch, args.server_core, logs)
        script = write_wrk_script(out, "size-200")
        if args.virtual_key:
            body = out / "body-size-200.json"
            script.write_text(lua_script(body, generate_virtual_key(gateway.port)))
        url = f"http://127.0.0.1:{gateway.port}{CHAT_PATH}"
        run_wrk(url, script, seconds=3, connections=CONNECTIONS, core=args.load_core)  # warm-up
        raw = out / "profile.txt"
        spy = str(Path(sys.executable).parent / "py-spy")
        what = ["--pid", str(gateway.pid), "--function", "-r", str(args.rate)]
        sampler = subprocess.Popen(
            [
                spy,
                "record",
                *what,
                "-d",
                str(round(args.seconds)),
                "--format",
                "raw",
                "-o",
                str(raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        results: list[object] = []
        load = threading.Thread(
            target=lambda: results.append(
                run_wrk(
                    url, script, seconds=args.seconds, connections=CONNECTIONS, core=args.load_core
                )
            )
        )
        load.start()
        sampler.wait()
        load.join()
    finally:
        if gateway is not None:
            gateway.stop()
        upstream.stop()
    total, own, cumulative = tally(raw.read_text())
    print(f"load: {results[0]}")
    if getattr(results[0], "non_2xx", 0) or getattr(results[0], "socket_errors", 0):
        print("WARNING: requests failed under load: this profiles the error path")
    print(f"samples: {total} ({raw})\n")
    print(table("self", own, total, args.top) + "\n")
    print(table("cumulative", cumulative, total, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
