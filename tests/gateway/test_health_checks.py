"""`general_settings.background_health_checks`: the deployments are checked in the background
every `health_check_interval` seconds, and `/health` answers from the last round instead of
calling every upstream itself. In process against the fake upstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.config import config_from_mapping
from testing.fake_upstream import FakeUpstream, serve_in_thread

MASTER = "sk-health-master"
ADMIN = {"Authorization": f"Bearer {MASTER}"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(FakeUpstream()) as base:
        yield base


@asynccontextmanager
async def gateway(
    upstream: str, data_dir: Path, interval: float
) -> AsyncIterator[httpx.AsyncClient]:
    config = config_from_mapping(
        {
            "model_list": [
                {
                    "model_name": "m",
                    "litellm_params": {"model": "openai/health-echo", "api_base": f"{upstream}/v1"},
                },
                {
                    "model_name": "broken",
                    "litellm_params": {"model": "openai/error-500", "api_base": f"{upstream}/v1"},
                },
            ],
            "general_settings": {
                "master_key": MASTER,
                "background_health_checks": True,
                "health_check_interval": interval,
            },
        },
        environ={},
    )
    app = create_app(config, data_dir=data_dir)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
    ):
        yield http


def _pings(upstream: str) -> int:
    entries = httpx.get(f"{upstream}/__fake__/requests", timeout=10).json()["data"]
    return sum(1 for e in entries if (e.get("body") or {}).get("model") == "health-echo")


@pytest.mark.anyio
async def test_health_answers_from_the_last_background_round(upstream: str, tmp_path: Path) -> None:
    async with gateway(upstream, tmp_path, interval=3600) as client:
        first = (await client.get("/health", headers=ADMIN)).json()
        assert first["healthy_count"] == 1 and first["unhealthy_count"] == 1
        assert first["unhealthy_endpoints"][0]["model_name"] == "broken"
        pings = _pings(upstream)
        for _ in range(3):
            again = (await client.get("/health", headers=ADMIN)).json()
            assert again["checked_at"] == first["checked_at"]
        assert _pings(upstream) == pings  # /health itself called no upstream


@pytest.mark.anyio
async def test_rounds_repeat_every_interval(upstream: str, tmp_path: Path) -> None:
    async with gateway(upstream, tmp_path, interval=0.05) as client:
        first = (await client.get("/health", headers=ADMIN)).json()["checked_at"]
        for _ in range(400):  # up to 20 s on a loaded machine; a round takes milliseconds
            latest = (await client.get("/health", headers=ADMIN)).json()["checked_at"]
            if latest > first:
                break
            await asyncio.sleep(0.05)
        assert latest > first
        assert (await client.get("/health")).status_code == 401
