"""The MCP client pool against an MCP server served over HTTPS by a private CA: a server's
own `ssl_verify`, the middleware-wide default, fail-closed without the CA, `false`."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import anyio
import pytest
import uvicorn
from structlog.testing import capture_logs

from common.config import ConfigError, document_from_mapping
from common.tls import SslContexts
from middleware.app import build_state
from middleware.config_sections import McpServerEntry
from middleware.mcp_pool import McpPool, PoolSettings, ServerUnavailable, server_ssl_contexts
from middleware.settings import settings_from_config
from tests.middleware.mcp_test_server import build_app
from tests.support.processes import free_port
from tests.support.tls import PrivatePki, make_private_pki

SETTINGS = PoolSettings(
    tool_timeout=10,
    tools_list_ttl=300,
    concurrency=4,
    initial_backoff=0.05,
    max_backoff=0.2,
    breaker_threshold=5,
    breaker_cooldown=60,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PrivatePki:
    return make_private_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def https_mcp(pki: PrivatePki) -> Iterator[str]:
    """https://127.0.0.1:PORT of the test MCP server (/mcp and /sse)."""
    port = free_port()
    config = uvicorn.Config(
        build_app(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
        ssl_certfile=str(pki.server.certfile),
        ssl_keyfile=str(pki.server.keyfile),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # uvicorn has no start callback; bounded by the deadline
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@asynccontextmanager
async def _pool(
    entries: dict[str, McpServerEntry], default: bool | str | None = None
) -> AsyncIterator[McpPool]:
    contexts = server_ssl_contexts(entries, default, {}, SslContexts({}))
    pool = McpPool(entries, SETTINGS, contexts)
    async with pool.running():
        yield pool


async def _until(predicate: Callable[[], bool]) -> None:
    with anyio.fail_after(15.0):
        # The pool has no change event to wait on; poll its state within the bound.
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.02)


def _entry(url: str, transport: Literal["http", "sse"], **extra: object) -> McpServerEntry:
    path = "/sse" if transport == "sse" else "/mcp"
    return McpServerEntry.model_validate({"url": f"{url}{path}", "transport": transport, **extra})


@pytest.mark.anyio
@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_a_server_with_its_ca_bundle_works(
    https_mcp: str, pki: PrivatePki, transport: Literal["http", "sse"]
) -> None:
    entry = _entry(https_mcp, transport, ssl_verify=str(pki.ca_bundle))
    async with _pool({"t": entry}) as pool:
        await _until(lambda: pool.connections["t"].health == "healthy")
        result = await pool.call("t", "echo", {"text": "over tls"})
        assert result.content[0].text == "echo: over tls"  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_the_middleware_wide_default_applies_to_every_server(
    https_mcp: str, pki: PrivatePki
) -> None:
    entries = {"a": _entry(https_mcp, "http"), "b": _entry(https_mcp, "sse")}
    async with _pool(entries, default=str(pki.ca_bundle)) as pool:
        await _until(lambda: all(c.health == "healthy" for c in pool.connections.values()))


@pytest.mark.anyio
@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_without_the_ca_it_fails_closed_and_says_why(
    https_mcp: str, transport: Literal["http", "sse"]
) -> None:
    async with _pool({"t": _entry(https_mcp, transport)}) as pool:
        connection = pool.connections["t"]
        await _until(lambda: connection.health == "unhealthy")
        assert connection.tools == []
        with pytest.raises(ServerUnavailable) as caught:
            await pool.call("t", "echo", {"text": "x"})
    message = str(caught.value)
    assert f"the TLS certificate of {connection.entry.url} failed verification" in message
    assert "(unable to get local issuer certificate)" in message
    assert "set mcp_servers.t.ssl_verify (or middleware_settings.ssl_verify)" in message


@pytest.mark.anyio
async def test_ssl_verify_false_works_and_warns_once(https_mcp: str) -> None:
    entries = {
        "off": _entry(https_mcp, "http", ssl_verify=False),
        "off_too": _entry(https_mcp, "sse", ssl_verify="false"),
    }
    with capture_logs() as logs:
        async with _pool(entries) as pool:
            await _until(lambda: all(c.health == "healthy" for c in pool.connections.values()))
            result = await pool.call("off", "echo", {"text": "unverified"})
            assert result.content[0].text == "echo: unverified"  # type: ignore[union-attr]
    warnings = [entry for entry in logs if "NOT verified" in entry["event"]]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["servers"] == ["off", "off_too"]


def test_settings_from_the_config_file(tmp_path: Path, pki: PrivatePki) -> None:
    document = document_from_mapping(
        {
            "middleware_settings": {"ssl_verify": str(pki.ca_bundle)},
            "mcp_servers": {"s": {"url": "https://mcp.internal/mcp", "ssl_verify": "False"}},
        },
        environ={},
    )
    settings = settings_from_config(document)
    assert settings.middleware.ssl_verify == str(pki.ca_bundle)
    assert settings.mcp_servers["s"].ssl_verify is False
    missing = tmp_path / "missing.pem"
    bad = document_from_mapping(
        {"mcp_servers": {"s": {"url": "https://x/mcp", "ssl_verify": str(missing)}}}, environ={}
    )
    with pytest.raises(ConfigError, match=r"mcp_servers\.s\.ssl_verify.*does not exist"):
        settings_from_config(bad)


def test_an_unusable_ssl_cert_file_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "gone.pem"))
    monkeypatch.delenv("SSL_VERIFY", raising=False)
    document = document_from_mapping(
        {"mcp_servers": {"s": {"url": "https://x/mcp"}}}, environ=dict(os.environ)
    )
    with pytest.raises(ConfigError, match=r"SSL_CERT_FILE: CA bundle .* does not exist"):
        build_state(settings_from_config(document), "http://127.0.0.1:1")
