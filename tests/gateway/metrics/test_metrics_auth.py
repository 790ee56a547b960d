"""Who may scrape: LiteLLM's `require_auth_for_metrics_endpoint`, in process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.config import config_from_mapping

MASTER = "sk-metrics-auth"


async def status_of(tmp_path: Path, settings: dict[str, Any], key: str | None) -> int:
    config = config_from_mapping(
        {"general_settings": {"master_key": MASTER}, "litellm_settings": settings}, environ={}
    )
    app = create_app(config, access_log=False, data_dir=tmp_path)
    headers = {"authorization": f"Bearer {key}"} if key else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.get("/metrics", headers=headers)
    if response.status_code == 200:
        names = {f.name for f in text_string_to_metric_families(response.text)}
        assert "litellm_proxy_total_requests_metric" in names
    return response.status_code


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("settings", "key", "expected"),
    [
        ({}, None, 401),
        ({}, MASTER, 200),
        ({"require_auth_for_metrics_endpoint": True}, "sk-wrong", 401),
        ({"require_auth_for_metrics_endpoint": False}, None, 200),
        ({"require_auth_for_metrics_endpoint": "false"}, None, 200),
    ],
)
async def test_metrics_auth_setting(
    tmp_path: Path, settings: dict[str, Any], key: str | None, expected: int
) -> None:
    assert await status_of(tmp_path, settings, key) == expected


@pytest.mark.anyio
async def test_a_virtual_key_is_refused_and_the_metrics_token_is_accepted(tmp_path: Path) -> None:
    """The labels carry every team's aliases and spend: a team's own key must not read them."""
    config = config_from_mapping(
        {"general_settings": {"master_key": MASTER, "metrics_token": "scrape-me"}}, environ={}
    )
    app = create_app(config, access_log=False, data_dir=tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gw") as client,
    ):
        made = await client.post(
            "/key/generate",
            json={"key_alias": "team-key"},
            headers={"authorization": f"Bearer {MASTER}"},
        )
        assert made.status_code == 200, made.text
        virtual = made.json()["key"]
        refused = await client.get("/metrics", headers={"authorization": f"Bearer {virtual}"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "admin_only"
        assert "team-key" not in refused.text
        token = await client.get("/metrics", headers={"authorization": "Bearer scrape-me"})
        assert token.status_code == 200
        assert "litellm_proxy_total_requests_metric" in token.text
        wrong = await client.get("/metrics", headers={"authorization": "Bearer scrape-you"})
        assert wrong.status_code == 401
