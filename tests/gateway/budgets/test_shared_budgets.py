"""With Redis, two gateway instances on one store count `model_max_budget`, the proxy-wide
`max_budget` and the soft-budget alert as one gateway does. A call costs exactly 1.0 here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from tests.gateway.store.databases import (
    CHAT,
    admin,
    bearer,
    clear_shared_counters,
    gateway_config,
    running_gateway,
    state_of,
)
from tests.support.components import REDIS_URL, require_component, tcp_port_open

pytestmark = pytest.mark.anyio
CHAT_PATH = "/v1/chat/completions"


@pytest.fixture
def redis_env() -> Iterator[dict[str, str]]:
    url = make_url(REDIS_URL)
    require_component(tcp_port_open(url.host or "127.0.0.1", url.port or 6379), "Redis")
    yield {
        "REDIS_URL": REDIS_URL,
        # Shared counts are what these tests check: a call that times out on a loaded host
        # would take its degraded (per-replica) mode, so give the hot path room here.
        "REDIS_SOCKET_TIMEOUT": "5",
    }


async def test_two_instances_share_model_budgets_the_proxy_budget_and_soft_alerts(
    database_url: str, tmp_path: Path, redis_env: dict[str, str]
) -> None:
    config = gateway_config(database_url)
    config["litellm_settings"] = {"max_budget": 6, "budget_duration": "1d"}
    async with (
        running_gateway(config, tmp_path / "a", environ=redis_env) as (a, first),
        running_gateway(config, tmp_path / "b", environ=redis_env) as (_b, second),
    ):
        redis = state_of(a).redis
        assert redis is not None  # REDIS_SOCKET_TIMEOUT reached the shared client
        assert redis.client.connection_pool.connection_kwargs["socket_timeout"] == 5.0
        try:
            generated = await first.post(
                "/key/generate",
                headers=admin(),
                json={
                    "model_max_budget": {"m": {"budget_limit": 2, "time_period": "1d"}},
                    "soft_budget": 1.5,
                    "key_alias": "shared",
                },
            )
            key = generated.json()["key"]
            with capture_logs() as logs:
                # model m: 2.0 between the two instances, then both refuse it
                assert (
                    await first.post(CHAT_PATH, headers=bearer(key), json=CHAT)
                ).status_code == 200
                assert (
                    await second.post(CHAT_PATH, headers=bearer(key), json=CHAT)
                ).status_code == 200
                for client in (first, second):
                    refused = await client.post(CHAT_PATH, headers=bearer(key), json=CHAT)
                    assert refused.status_code == 422 and "model_max_budget" in refused.text
                    # another model still answers, and each such call moves the soft budget
                    other = await client.post(
                        CHAT_PATH, headers=bearer(key), json={**CHAT, "model": "other"}
                    )
                    assert other.status_code == 200
            # The key crossed its soft budget on both instances: one alert in all.
            alerts = [e for e in logs if e.get("event_type") == "soft_budget_crossed"]
            assert len(alerts) == 1 and alerts[0]["entity_alias"] == "shared"

            # 4.0 spent through the key; the master key spends the proxy's last 2.0 over both.
            assert (await second.post(CHAT_PATH, headers=admin(), json=CHAT)).status_code == 200
            assert (await first.post(CHAT_PATH, headers=admin(), json=CHAT)).status_code == 200
            for client in (first, second):
                refused = await client.post(CHAT_PATH, headers=admin(), json=CHAT)
                assert refused.status_code == 422
                assert "litellm_settings.max_budget" in refused.json()["error"]["message"]
        finally:
            # the PostgreSQL store, and so the Redis namespace, is shared with other tests
            await clear_shared_counters(a)
