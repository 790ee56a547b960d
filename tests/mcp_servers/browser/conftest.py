"""A real browser server process (Chromium) for the browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mcp_servers.conftest import mcp_server_process
from tests.support.components import require_component
from tests.support.processes import ServiceProcess

CHROMIUM = os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_server(service_log_dir: Path) -> Iterator[ServiceProcess]:
    """Browser server that may reach the test site by the name `localhost` only.

    Every other spelling of loopback (127.0.0.1, [::1], 2130706433, ...) stays refused, so
    one server shows both: the allowlist opens what it names, and nothing else.
    """
    require_component(shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM}")
    settings = {
        "allow_hosts": ["localhost"],
        "executable_path": CHROMIUM,
        "max_contexts": 3,
        "navigation_timeout": 15,
        "action_timeout": 2,
    }
    with mcp_server_process("browser", settings, service_log_dir) as service:
        yield service
