"""Real components (PostgreSQL, Redis, SeaweedFS, Chromium) that tests need.

Outside CI a missing component skips the test with the reason; with CI=true it fails the
run, because a skip there would hide breakage.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_component(available: bool, what: str) -> None:
    if available:
        return
    if in_ci():
        pytest.fail(f"required component missing in CI: {what}")
    pytest.skip(f"component not available here: {what}")


def tcp_port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
