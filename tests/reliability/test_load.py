"""Concurrent clients through middleware and gateway: zero errors, no leaked descriptors or
child processes, and a spend row for every request. The 500-client run is `scripts/soak`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest

from tests.reliability.load import LoadResult, Reading, run_load, running_full_stack


def _check_descriptors(name: str, clients: int, before: Reading, after: Reading) -> None:
    # Files (non-sockets) must not grow at all beyond a little slack. Sockets are pooled
    # keep-alive connections: bounded by the concurrency, never by the number of requests
    # (a leak would grow with the thousands of requests sent).
    assert after.fds - after.socket_fds <= before.fds - before.socket_fds + 3, (name, before, after)
    assert after.socket_fds <= before.socket_fds + clients, (name, before, after)


def _check(result: LoadResult) -> None:
    assert result.sent > 0
    assert dict(result.errors) == {}
    assert result.spend_found == result.spend_expected
    for name, before in result.before.items():
        after = result.after[name]
        _check_descriptors(name, result.clients, before, after)
        assert after.children == before.children, (name, before, after)


def _run(tmp_path: Path, clients: int, seconds: float) -> LoadResult:
    with running_full_stack(tmp_path) as stack:
        return anyio.run(run_load, stack, clients, seconds)


def test_short_load_through_middleware_and_gateway(tmp_path: Path) -> None:
    _check(_run(tmp_path, clients=40, seconds=3))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_soak(tmp_path: Path) -> None:
    clients = int(os.environ.get("SOAK_CLIENTS", "500"))
    seconds = float(os.environ.get("SOAK_SECONDS", "120"))
    log_dir = Path(os.environ.get("SOAK_LOG_DIR") or tmp_path)
    log_dir.mkdir(parents=True, exist_ok=True)
    result = _run(log_dir, clients, seconds)
    report = os.environ.get("SOAK_REPORT")
    if report:
        Path(report).write_text(json.dumps(result.summary(), indent=2, default=str))
    _check(result)
    for name, before in result.before.items():
        # bounded memory: within 25% (plus allocator slack) of the warmed-up reading
        assert result.after[name].rss_kb <= before.rss_kb * 1.25 + 20_000, name
