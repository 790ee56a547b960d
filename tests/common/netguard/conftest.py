"""The loopback test web site, for the proxy tests (the same site the fetch and browser use)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mcp_servers.site import Site, running_site


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with running_site() as running:
        yield running
