"""Figures under load: saturation throughput (wrk), CPU per request, RSS, open-loop latency."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from bench import openloop
from bench.procstat import sample
from bench.services import MASTER_KEY
from bench.stats import median, percentile
from bench.targets import CHAT_PATH, Target, chat_body, chat_request, rotate
from bench.wrk import WrkResult, lua_script, run_wrk

MB = 1024 * 1024


def write_wrk_script(directory: Path, model: str) -> Path:
    body = directory / f"body-{model}.json"
    body.write_bytes(chat_body(model))
    script = directory / f"post-{model}.lua"
    script.write_text(lua_script(body, MASTER_KEY))
    return script


class _PeakRss:
    """Samples a process tree's RSS in a thread while load runs; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sample(self.pid).rss_bytes)
            self._stop.wait(self.interval)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class LoadRun:
    wrk: WrkResult
    cpu_seconds: float
    peak_rss: int

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds / self.wrk.requests * 1e6 if self.wrk.requests else float("nan")


def load_run(
    target: Target, script: Path, *, seconds: float, connections: int, core: int | None
) -> LoadRun:
    before = sample(target.pid)
    with _PeakRss(target.pid) as peak:
        result = run_wrk(
            target.url + CHAT_PATH, script, seconds=seconds, connections=connections, core=core
        )
    after = sample(target.pid)
    return LoadRun(result, after.cpu_seconds - before.cpu_seconds, peak.peak)


def saturation(
    targets: list[Target],
    script: Path,
    *,
    rounds: int,
    seconds: float,
    connections: int,
    core: int | None,
) -> dict[str, list[LoadRun]]:
    runs: dict[str, list[LoadRun]] = {t.name: [] for t in targets}
    for r in range(rounds):
        for t in rotate(targets, r):
            runs[t.name].append(
                load_run(t, script, seconds=seconds, connections=connections, core=core)
            )
    return runs


def saturation_table(runs: dict[str, list[LoadRun]]) -> dict[str, object]:
    table: dict[str, object] = {}
    for name, items in runs.items():
        table[name] = {
            "rounds": len(items),
            "rps_median": median([i.wrk.requests_per_second for i in items]),
            "rps_all": [round(i.wrk.requests_per_second, 1) for i in items],
            "requests": sum(i.wrk.requests for i in items),
            "errors": sum(i.wrk.errors for i in items),
            "cpu_us_per_request": median([i.cpu_us_per_request for i in items]),
            # per round, in round order: targets of one round ran back to back, so ratios of
            # the same round are the steadiest before/after figure on a shared machine
            "cpu_us_all": [round(i.cpu_us_per_request, 1) for i in items],
            # What one otherwise idle core would sustain at this CPU cost per request; on a
            # shared machine the measured req/s depends on how much of the core we got.
            "rps_per_core": 1e6 / median([i.cpu_us_per_request for i in items]),
            "rss_under_load_mb": max(i.peak_rss for i in items) / MB,
        }
    return table


def open_loop(
    targets: list[Target], model: str, *, rates: list[int], rounds: int, seconds: float
) -> dict[str, dict[int, list[openloop.OpenLoopResult]]]:
    results: dict[str, dict[int, list[openloop.OpenLoopResult]]] = {
        t.name: {rate: [] for rate in rates} for t in targets
    }
    for rate in rates:
        for r in range(rounds):
            for t in rotate(targets, r):
                raw = chat_request(t.port, model)
                results[t.name][rate].append(
                    openloop.run("127.0.0.1", t.port, raw, rate=rate, duration=seconds)
                )
    return results


def open_loop_table(
    results: dict[str, dict[int, list[openloop.OpenLoopResult]]], baseline: str = "direct"
) -> dict[str, object]:
    def pooled(items: list[openloop.OpenLoopResult]) -> list[float]:
        return [lat for item in items for lat in item.latencies]

    table: dict[str, object] = {}
    for name, by_rate in results.items():
        rows: dict[str, object] = {}
        for rate, items in by_rate.items():
            lat = pooled(items)
            base = pooled(results[baseline][rate])
            row: dict[str, object] = {
                "sent": sum(i.sent for i in items),
                "ok": len(lat),
                "errors": sum(i.errors for i in items),
                "p50_ms": percentile(lat, 50) * 1e3,
                "p99_ms": percentile(lat, 99) * 1e3,
                "generator_kept_up": all(i.generator_kept_up for i in items),
                "generator_send_lag_p99_ms": max(percentile(i.send_lags, 99) for i in items) * 1e3,
            }
            if name != baseline:
                row["overhead_p50_ms"] = (percentile(lat, 50) - percentile(base, 50)) * 1e3
                row["overhead_p99_ms"] = (percentile(lat, 99) - percentile(base, 99)) * 1e3
            rows[str(rate)] = row
        table[name] = rows
    return table


def rss_growth(
    target: Target,
    script: Path,
    *,
    requests: int,
    max_seconds: float,
    connections: int,
    core: int | None,
) -> dict[str, object]:
    """RSS after a warm-up, then after `requests` more (or as many as fit in `max_seconds`)."""
    load_run(target, script, seconds=2, connections=connections, core=core)
    baseline = sample(target.pid).rss_bytes
    done, spent = 0, 0.0
    while done < requests and spent < max_seconds:
        run = load_run(target, script, seconds=10, connections=connections, core=core)
        done += run.wrk.requests
        spent += run.wrk.seconds
    after = sample(target.pid).rss_bytes
    return {
        "requests": done,
        "rss_after_warmup_mb": baseline / MB,
        "rss_after_mb": after / MB,
        "growth_percent": (after - baseline) / baseline * 100,
    }


def single_request_ok(target: Target, model: str) -> bool:
    from bench.rawhttp import BlockingClient

    client = BlockingClient("127.0.0.1", target.port)
    try:
        return client.request(chat_request(target.port, model)).status == 200
    finally:
        client.close()
