"""Cold start: process spawn to the first 200 from the liveness route, median of several."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.services import Launch, spawn, wait_healthy
from bench.stats import median


def cold_starts(
    make_launch: Callable[[], Launch], *, runs: int, core: int | str | None, log_dir: Path
) -> dict[str, object]:
    seconds: list[float] = []
    for _ in range(runs):
        service = spawn(make_launch(), core, log_dir)
        try:
            seconds.append(wait_healthy(service, timeout=180.0, interval=0.002))
        finally:
            service.stop()
    return {"runs": runs, "median_s": median(seconds), "all_s": [round(s, 3) for s in seconds]}
