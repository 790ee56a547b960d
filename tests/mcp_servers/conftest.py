"""Fixtures shared by the MCP server tests."""

from __future__ import annotations

import pytest

from tests.mcp_servers.support import TRANSPORTS, Transport


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> Transport:
    """Run a test once per MCP transport: streamable HTTP and legacy SSE."""
    value: Transport = request.param
    return value
