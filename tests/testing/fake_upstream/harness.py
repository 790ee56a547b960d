"""Start the fake upstream as a real process for any test suite (gateway, middleware, e2e).

with running_fake_upstream(service_log_dir) as upstream:
    client = OpenAI(base_url=f"{upstream.url}/v1", api_key="test")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from testing.fake_upstream import command_args
from tests.support.processes import ServiceProcess, free_port, start_service


@contextmanager
def running_fake_upstream(
    log_dir: Path, *, require_key: str | None = None, record_limit: int | None = None
) -> Iterator[ServiceProcess]:
    port = free_port()
    service = start_service(
        "fake-upstream",
        command_args(port, require_key=require_key, record_limit=record_limit),
        port=port,
        log_dir=log_dir,
        health_path="/health",
    )
    try:
        yield service
    finally:
        service.stop()
