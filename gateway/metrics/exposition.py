"""The text exposition, from this process's registry or, with several workers, from every
worker's files in `PROMETHEUS_MULTIPROC_DIR`."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from gateway.metrics.definitions import GatewayMetrics

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()) or None


def render(metrics: GatewayMetrics) -> tuple[bytes, str]:
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(metrics.registry), CONTENT_TYPE_LATEST
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
    for collector in metrics.live:
        combined.register(collector)
    return generate_latest(combined), CONTENT_TYPE_LATEST


def prepare_multiprocess_dir(directory: Path) -> None:
    """Create the directory and drop files left by an earlier run (they would add up)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def worker_exited(pid: int) -> None:
    """Forget a worker's live gauges (in-flight requests) when it shuts down."""
    directory = multiprocess_dir()
    if directory is not None:
        multiprocess.mark_process_dead(pid, path=directory)  # type: ignore[no-untyped-call]
