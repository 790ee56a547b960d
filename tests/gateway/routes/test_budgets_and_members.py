"""The rest of LiteLLM's management API, on SQLite and PostgreSQL, with the shapes of its docs:
- budgets: https://docs.litellm.ai/docs/proxy/users (`/budget/*`, `budget_id`,
  `soft_budget`, calendar `budget_duration`) and
  https://docs.litellm.ai/docs/proxy/virtual_keys (`model_max_budget`, `/key/health`);
- team members: https://docs.litellm.ai/docs/proxy/team_budgets (`/team/member_add`,
  `/team/member_delete`, roles `admin`/`user`);
- global spend: https://docs.litellm.ai/docs/proxy/cost_tracking (`/global/spend/report`,
  `/spend/calculate`).

A call costs exactly 1.0 here (10 + 10 tokens at 0.05).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from tests.gateway.store.databases import (
    CHAT,
    admin,
    bearer,
    gateway_config,
    running_gateway,
    state_of,
)

pytestmark = pytest.mark.anyio
OTHER = {**CHAT, "model": "other"}


async def generate(client: httpx.AsyncClient, **fields: Any) -> str:
    response = await client.post("/key/generate", headers=admin(), json=fields)
    assert response.status_code == 200, response.text
    key: str = response.json()["key"]
    return key


async def chat(client: httpx.AsyncClient, key: str, body: dict[str, Any] = CHAT) -> httpx.Response:
    return await client.post("/v1/chat/completions", headers=bearer(key), json=body)


async def test_budget_objects_and_budget_id(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        made = await client.post(
            "/budget/new",
            headers=admin(),
            json={"budget_id": "small", "max_budget": 1.0, "budget_duration": "monthly"},
        )
        assert made.status_code == 200, made.text
        budget = made.json()
        assert budget["budget_id"] == "small" and budget["max_budget"] == 1.0
        first_of_next_month = datetime.fromisoformat(budget["budget_reset_at"])
        assert first_of_next_month.day == 1 and first_of_next_month > datetime.now(UTC)

        key = await generate(client, budget_id="small")
        info = (await client.get("/key/info", params={"key": key}, headers=admin())).json()
        assert info["info"]["budget_id"] == "small" and info["info"]["max_budget"] == 1.0
        assert (await chat(client, key)).status_code == 200
        refused = await chat(client, key)
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "budget_exceeded"

        # A changed budget reaches every key that references it.
        raised = await client.post(
            "/budget/update", headers=admin(), json={"budget_id": "small", "max_budget": 5.0}
        )
        assert raised.json()["max_budget"] == 5.0
        assert (await chat(client, key)).status_code == 200

        listed = (await client.get("/budget/list", headers=admin())).json()
        assert [b["budget_id"] for b in listed] == ["small"]
        info = await client.post("/budget/info", headers=admin(), json={"budgets": ["small"]})
        assert info.json()[0]["max_budget"] == 5.0
        in_use = await client.post("/budget/delete", headers=admin(), json={"id": "small"})
        assert in_use.status_code == 400
        missing = await client.post("/key/generate", headers=admin(), json={"budget_id": "nope"})
        assert missing.status_code == 400 and "nope" in missing.json()["error"]["message"]


async def test_model_max_budget_refuses_that_model_only(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        key = await generate(
            client, model_max_budget={"m": {"budget_limit": 1.0, "time_period": "1d"}}
        )
        assert (await chat(client, key)).status_code == 200
        refused = await chat(client, key)
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "budget_exceeded" and "model m" in error["message"]
        assert refused.headers["retry-after"]
        assert (await chat(client, key, OTHER)).status_code == 200
        bad = await client.post(
            "/key/generate",
            headers=admin(),
            json={"model_max_budget": {"m": {"budget_limit": 1, "time_period": "sometimes"}}},
        )
        assert bad.status_code == 400


async def test_soft_budget_alerts_in_the_log_and_metrics(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        key = await generate(client, soft_budget=1.5, key_alias="soft")
        with capture_logs() as logs:
            assert (await chat(client, key)).status_code == 200  # spend 1.0
            assert not [e for e in logs if e.get("event_type") == "soft_budget_crossed"]
            assert (await chat(client, key)).status_code == 200  # spend 2.0: crossed
            assert (await chat(client, key)).status_code == 200  # no second alert
        alerts = [e for e in logs if e.get("event_type") == "soft_budget_crossed"]
        assert len(alerts) == 1
        assert alerts[0]["entity_alias"] == "soft" and alerts[0]["soft_budget"] == 1.5
        assert key not in repr(alerts)
        metrics = (await client.get("/metrics", headers=admin())).text
        line = next(
            x for x in metrics.splitlines() if x.startswith("litellm_soft_budget_crossed_total")
        )
        assert 'entity_alias="soft"' in line and line.endswith(" 1.0")


async def test_unknown_fields_are_refused_by_name(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        for path, body in [
            ("/key/generate", {"max_budget": 1, "guardrails": ["x"]}),
            ("/team/new", {"team_alias": "t", "organization_id": "o"}),
            ("/user/new", {"user_id": "u", "sso_user_id": "s"}),
            ("/budget/new", {"max_budget": 1, "budget_colour": "red"}),
            (
                "/team/member_add",
                {"team_id": "t", "member": {"role": "user", "user_id": "u"}, "x": 1},
            ),
        ]:
            response = await client.post(path, headers=admin(), json=body)
            assert response.status_code == 400, (path, response.text)
            unknown = next(
                k
                for k in body
                if k not in {"max_budget", "team_alias", "user_id", "team_id", "member"}
            )
            assert unknown in response.json()["error"]["message"], path


async def test_team_members_with_roles(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        await client.post("/team/new", headers=admin(), json={"team_id": "t1"})
        added = await client.post(
            "/team/member_add",
            headers=admin(),
            json={
                "team_id": "t1",
                "member": [
                    {"role": "admin", "user_id": "ann"},
                    {"role": "user", "user_id": "bob", "user_email": "bob@example.com"},
                ],
            },
        )
        assert added.status_code == 200, added.text
        body = added.json()
        assert body["team_id"] == "t1"
        assert [(m["user_id"], m["role"]) for m in body["members_with_roles"]] == [
            ("ann", "admin"),
            ("bob", "user"),
        ]
        assert [u["user_id"] for u in body["updated_users"]] == ["ann", "bob"]
        bob = (await client.get("/user/info", params={"user_id": "bob"}, headers=admin())).json()
        assert bob["teams"] == ["t1"]
        twice = await client.post(
            "/team/member_add",
            headers=admin(),
            json={"team_id": "t1", "member": {"role": "user", "user_id": "bob"}},
        )
        assert twice.status_code == 400
        removed = await client.post(
            "/team/member_delete", headers=admin(), json={"team_id": "t1", "user_id": "bob"}
        )
        assert [m["user_id"] for m in removed.json()["members_with_roles"]] == ["ann"]
        bob = (await client.get("/user/info", params={"user_id": "bob"}, headers=admin())).json()
        assert bob["teams"] == []
        bad_role = await client.post(
            "/team/member_add",
            headers=admin(),
            json={"team_id": "t1", "member": {"role": "owner", "user_id": "c"}},
        )
        assert bad_role.status_code == 400


async def test_global_spend_report_and_calculate(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (app, client):
        await client.post("/team/new", headers=admin(), json={"team_id": "t1", "team_alias": "T"})
        key = await generate(client, team_id="t1")
        for body in (CHAT, CHAT, OTHER):
            assert (await chat(client, key, {**body, "tags": ["nightly"]})).status_code == 200

        accounts = state_of(app).accounts
        assert accounts is not None
        assert await accounts.writer.flush()  # spend rows are written in batches
        assert (await client.get("/global/spend", headers=admin())).json() == {
            "spend": 3.0,
            "max_budget": 0.0,
        }
        today = datetime.now(UTC).date().isoformat()
        params = {"start_date": today, "end_date": today, "group_by": "team"}
        teams = (await client.get("/global/spend/report", params=params, headers=admin())).json()
        assert teams[0]["group_by_day"] == today
        team = teams[0]["teams"][0]
        assert team["team_name"] == "t1" and team["total_spend"] == 3.0
        assert sorted((m["model"], m["spend"]) for m in team["metadata"]) == [
            ("m", 2.0),
            ("other", 1.0),
        ]
        models = await client.get(
            "/global/spend/report", params={**params, "group_by": "model"}, headers=admin()
        )
        assert [(i["model"], i["total_spend"]) for i in models.json()[0]["models"]] == [
            ("m", 2.0),
            ("other", 1.0),
        ]
        tags = await client.get(
            "/global/spend/report", params={**params, "group_by": "tag"}, headers=admin()
        )
        assert tags.json()[0]["tags"] == [{"tag": "nightly", "total_spend": 3.0, "log_count": 3}]
        keys = await client.get(
            "/global/spend/report", params={**params, "group_by": "api_key"}, headers=admin()
        )
        assert keys.json()[0]["api_keys"][0]["total_spend"] == 3.0
        bad = await client.get(
            "/global/spend/report", params={"group_by": "planet"}, headers=admin()
        )
        assert bad.status_code == 400

        cost = await client.post(
            "/spend/calculate",
            headers=bearer(key),
            json={
                "completion_response": {
                    "model": "m",
                    "usage": {"prompt_tokens": 4, "completion_tokens": 6},
                }
            },
        )
        assert cost.json() == {"cost": pytest.approx(0.5)}
        estimate = await client.post(
            "/spend/calculate",
            headers=bearer(key),
            json={"model": "m", "messages": [{"role": "user", "content": "x" * 40}]},
        )
        assert estimate.json() == {"cost": pytest.approx(0.5)}  # 10 tokens at 4 chars each
        health = await client.post("/key/health", headers=bearer(key))
        assert health.json() == {"key": "healthy", "logging_callbacks": None}
        assert (await client.post("/key/health", headers=bearer("sk-wrong"))).status_code == 401


NEW_ADMIN_ROUTES = [
    ("POST", "/budget/new"),
    ("POST", "/budget/update"),
    ("POST", "/budget/info"),
    ("GET", "/budget/list"),
    ("POST", "/budget/delete"),
    ("POST", "/team/member_add"),
    ("POST", "/team/member_delete"),
    ("GET", "/global/spend"),
    ("GET", "/global/spend/report"),
    ("POST", "/model/new"),
    ("POST", "/model/update"),
    ("POST", "/model/delete"),
    ("POST", "/credentials"),
    ("GET", "/credentials"),
]


async def test_new_routes_are_admin_only_and_described(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        key = await generate(client)
        for method, path in NEW_ADMIN_ROUTES:
            response = await client.request(method, path, headers=bearer(key), json={})
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"]["code"] == "admin_only"
        spec = (await client.get("/openapi.json")).json()["paths"]
        described = {
            *NEW_ADMIN_ROUTES,
            ("POST", "/spend/calculate"),
            ("POST", "/key/health"),
            ("GET", "/model_group/info"),
            ("GET", "/v1/model/info"),
            ("PATCH", "/model/{model_id}/update"),
            ("GET", "/credentials/by_name/{credential_name}"),
            ("PATCH", "/credentials/{credential_name}"),
            ("DELETE", "/credentials/{credential_name}"),
        }
        missing = [(m, p) for m, p in described if m.lower() not in spec.get(p, {})]
        assert missing == []
