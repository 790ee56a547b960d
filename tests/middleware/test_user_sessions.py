"""Per-user MCP sessions in the pool against a real server on loopback: one session per
user, shared servers unchanged, idle sessions closed."""

from __future__ import annotations

import anyio
import pytest

from middleware.config_sections import McpServerEntry
from middleware.mcp_pool import McpPool, PoolSettings
from middleware.mcp_pool.connection import session_mode
from tests.middleware.test_mcp_keepalive import _pool, _until
from tests.middleware.test_mcp_pool import SETTINGS, _serve


async def _session_id(pool: McpPool, user: str | None) -> str:
    result = await pool.call("t", "session_ref", {}, user)
    text = result.content[0].text  # type: ignore[union-attr]
    assert isinstance(text, str) and text != "<none>"
    return text


# Legacy SSE sessions carry an id the server sees (the 2026 protocol is sessionless; the
# browser server, which needs sessions, makes clients fall back to them).
def _sse_entry(url: str, **extra: object) -> McpServerEntry:
    return McpServerEntry.model_validate({"url": f"{url}/sse", "transport": "sse", **extra})


@pytest.mark.anyio
async def test_each_user_gets_an_own_session_and_keeps_it() -> None:
    with _serve() as url:
        async with _pool({"t": _sse_entry(url, session="per_user")}, SETTINGS) as pool:
            connection = pool.connections["t"]
            await _until(lambda: connection.health == "healthy")
            a1 = await _session_id(pool, "key1/user-a")
            b1 = await _session_id(pool, "key1/user-b")
            a2 = await _session_id(pool, "key1/user-a")
            shared = await _session_id(pool, None)
            assert a1 == a2
            assert len({a1, b1, shared}) == 3
            assert connection.status()["user_sessions"] == 2


@pytest.mark.anyio
async def test_a_shared_server_uses_one_session_for_everyone() -> None:
    with _serve() as url:
        async with _pool({"t": _sse_entry(url)}, SETTINGS) as pool:
            connection = pool.connections["t"]
            await _until(lambda: connection.health == "healthy")
            ids = {await _session_id(pool, user) for user in ("a", "b", None)}
            assert len(ids) == 1
            assert connection.status()["session"] == "shared"


@pytest.mark.anyio
async def test_idle_user_sessions_are_closed_and_reopened_on_demand() -> None:
    settings = PoolSettings(**{**SETTINGS.__dict__, "user_session_idle_timeout": 0.2})
    with _serve() as url:
        async with _pool({"t": _sse_entry(url, session="per_user")}, settings) as pool:
            connection = pool.connections["t"]
            sessions = connection.user_sessions
            assert sessions is not None
            await _until(lambda: connection.health == "healthy")
            first = await _session_id(pool, "u")
            assert len(sessions) == 1
            await _until(lambda: len(sessions) == 0)
            with anyio.fail_after(10):
                again = await _session_id(pool, "u")
            assert again != first


def test_the_browser_is_per_user_unless_configured_otherwise() -> None:
    entry = McpServerEntry(url="http://127.0.0.1:1/mcp")
    assert session_mode("browser", entry) == "per_user"
    assert session_mode("fetch", entry) == "shared"
    shared = McpServerEntry.model_validate({"url": "http://x/mcp", "session": "shared"})
    assert session_mode("browser", shared) == "shared"
