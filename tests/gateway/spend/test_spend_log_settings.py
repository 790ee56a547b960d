"""`general_settings.disable_spend_logs` and `store_prompts_in_spend_logs` through a real
gateway process in front of the fake upstream, on SQLite and PostgreSQL, read back through
`/spend/logs` and, for what the API cannot show, from the database itself."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.auth import Principal
from gateway.hooks import CallRecord
from gateway.spend.content import REDACTED, TRUNCATED, stored_content
from gateway.spend.rows import SpendLogSettings, row_from_record
from gateway.store import create_database, database_url_for, tables
from gateway.store.database import SQLITE_FILENAME
from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.support.components import REDIS_URL, require_component, tcp_port_open
from tests.support.processes import ServiceProcess

ADMIN = {"authorization": f"Bearer {MASTER_KEY}"}
LONG = "a" * 1000 + "MIDDLE" + "z" * 2000  # over LiteLLM's 2048-character bound


@dataclass
class Gateway:
    service: ServiceProcess
    database_url: str  # the async URL the gateway uses


def _config(upstream: ServiceProcess, general: dict[str, Any]) -> dict[str, Any]:
    return {
        "model_list": [
            {
                "model_name": "priced",
                "litellm_params": {
                    "model": "openai/echo",
                    "api_base": f"{upstream.url}/v1",
                    "api_key": UPSTREAM_KEY,
                    "input_cost_per_token": 0.001,
                    "output_cost_per_token": 0.002,
                },
            }
        ],
        "general_settings": {"master_key": MASTER_KEY, "proxy_batch_write_at": 0.1, **general},
    }


@dataclass
class Store:
    database: str | None  # None: the gateway's SQLite file in its data dir
    redis: str  # "": none, so rows go through the local queue, else through the spend stream


@pytest.fixture(params=["sqlite", "sqlite-redis", "postgresql"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "sqlite":
        return Store(None, "")
    if request.param == "sqlite-redis":
        require_component(tcp_port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
        return Store(None, REDIS_URL)
    return Store(request.getfixturevalue("postgres_database"), "")


def _start(
    upstream: ServiceProcess,
    tmp_path: Path,
    log_dir: Path,
    store: Store,
    general: dict[str, Any],
) -> Iterator[Gateway]:
    database = store.database
    settings = {**general, **({"database_url": database} if database else {})}
    env = {"REDIS_URL": store.redis, "TOOLRELAY_ROUTER_NAMESPACE": f"t{uuid.uuid4().hex[:8]}"}
    service = start_gateway(_config(upstream, settings), tmp_path, log_dir, env)
    try:
        url = database_url_for(database, tmp_path / "home")
        assert database or (tmp_path / "home" / SQLITE_FILENAME).exists()
        yield Gateway(service, url)
    finally:
        service.stop()


@pytest.fixture
def unlogged(
    fake_upstream: ServiceProcess, tmp_path: Path, service_log_dir: Path, store: Store
) -> Iterator[Gateway]:
    general = {"disable_spend_logs": True, "store_prompts_in_spend_logs": True}
    yield from _start(fake_upstream, tmp_path, service_log_dir, store, general)


@pytest.fixture
def storing(
    fake_upstream: ServiceProcess, tmp_path: Path, service_log_dir: Path, store: Store
) -> Iterator[Gateway]:
    general = {"store_prompts_in_spend_logs": True}
    yield from _start(fake_upstream, tmp_path, service_log_dir, store, general)


def _query(url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        db = create_database(url)
        try:
            async with db.engine.connect() as connection:
                return list(await connection.execute(statement))
        finally:
            await db.close()

    return asyncio.run(run())


def _wait_for(what: str, probe: Any) -> Any:
    deadline = time.monotonic() + 20
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)  # poll interval for the batched writer


def _chat(gateway: ServiceProcess, key: str, stream: bool = False) -> httpx.Response:
    body = {
        "model": "priced",
        "messages": [{"role": "user", "content": LONG}],
        "metadata": {"session_token": "sk-secret-value", "tags": ["t"]},
        "stream": stream,
    }
    auth = {"authorization": f"Bearer {key}"}
    answer = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=auth, timeout=20)
    assert answer.status_code == 200, answer.text
    return answer


def _team_key(gateway: ServiceProcess) -> tuple[str, str]:
    team = f"team-{uuid.uuid4().hex[:8]}"
    made = httpx.post(f"{gateway.url}/team/new", headers=ADMIN, json={"team_id": team}, timeout=10)
    assert made.status_code == 200, made.text
    key = httpx.post(
        f"{gateway.url}/key/generate", headers=ADMIN, json={"team_id": team}, timeout=10
    ).json()["key"]
    return team, key


def test_disable_spend_logs_writes_no_row_but_counts_spend(unlogged: Gateway) -> None:
    gateway = unlogged.service
    team, key = _team_key(gateway)
    request_id = _chat(gateway, key).headers["x-request-id"]

    teams = tables.teams
    spent = _wait_for(
        "the team's spend in the database",
        lambda: _query(unlogged.database_url, select(teams.c.spend).where(teams.c.team_id == team))[
            0
        ][0],
    )
    assert spent > 0
    logs, claims = tables.spend_logs, tables.spend_claims
    assert _query(unlogged.database_url, select(logs).where(logs.c.request_id == request_id)) == []
    assert _query(unlogged.database_url, select(func.count()).select_from(claims))[0][0] >= 1
    rows = httpx.get(
        f"{gateway.url}/spend/logs", params={"request_id": request_id}, headers=ADMIN, timeout=10
    ).json()
    assert rows == []
    # the daily rollups still count it (LiteLLM keeps its daily tables too)
    today = datetime.now(UTC).date().isoformat()
    days = httpx.get(
        f"{gateway.url}/spend/logs",
        params={"start_date": today, "end_date": today},
        headers=ADMIN,
        timeout=10,
    ).json()
    assert days and days[0]["teams"][team] == pytest.approx(spent)


@pytest.mark.parametrize("stream", [False, True])
def test_store_prompts_keeps_request_and_response(storing: Gateway, stream: bool) -> None:
    gateway = storing.service
    _, key = _team_key(gateway)
    request_id = _chat(gateway, key, stream=stream).headers["x-request-id"]

    def row() -> dict[str, Any] | None:
        found = httpx.get(
            f"{gateway.url}/spend/logs",
            params={"request_id": request_id},
            headers=ADMIN,
            timeout=10,
        ).json()
        return dict(found[0]) if found else None

    stored = _wait_for("the spend row", row)
    request = stored["proxy_server_request"]
    sent = request["messages"][0]["content"]
    assert sent.startswith("a" * 700) and sent.endswith("z" * 1300)
    assert TRUNCATED in sent and "MIDDLE" not in sent
    assert request["metadata"]["session_token"] == REDACTED
    assert request["stream"] is stream
    answer = stored["response"]["choices"][0]["message"]["content"]
    assert TRUNCATED in answer and answer.endswith("z" * 1300)  # `echo` sent LONG back
    assert stored["response"]["usage"]["prompt_tokens"] == stored["prompt_tokens"]
    assert stored["messages"] == {}


def test_rows_carry_no_content_by_default() -> None:
    record = CallRecord(
        request_id="r", principal=_principal(), call_type="chat", model_group="g", body={"a": 1}
    )
    record.response = {"choices": []}
    plain = row_from_record(record, 0.0, SpendLogSettings())
    assert plain["proxy_server_request"] is None and plain["response"] is None
    kept = row_from_record(record, 0.0, SpendLogSettings(store_prompts=True))
    assert kept["proxy_server_request"] == {"a": 1} and kept["response"] == {"choices": []}


def test_stored_content_is_bounded_and_keeps_tool_content() -> None:
    body = {
        "api_key": "sk-client",
        "secret_fields": {"raw_headers": {"authorization": "Bearer x"}},
        "max_tokens": 5,
        "input_cost_per_token": 1,
        "messages": [
            {"role": "assistant", "tool_calls": [{"function": {"arguments": '{"token": "t"}'}}]},
            {"role": "tool", "content": [{"type": "text", "text": "ok", "access_key": "kept"}]},
        ],
    }
    kept = stored_content(body, 2048)
    assert kept["api_key"] == REDACTED and "secret_fields" not in kept
    assert kept["max_tokens"] == 5 and kept["input_cost_per_token"] == 1
    assert kept["messages"][1]["content"][0]["access_key"] == "kept"  # a tool's result
    huge = {"messages": [{"role": "user", "content": "x" * 2000} for _ in range(400)]}
    assert set(stored_content(huge, 2048)) == {TRUNCATED}


def _principal() -> Principal:
    return Principal(kind="master", is_admin=True)
