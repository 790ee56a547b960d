"""The operator CLI against a running gateway and middleware, in human and --json output."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx
import pytest

from tests.support.components import POSTGRES_DSN, tcp_port_open
from tests.toolrelay.conftest import INPUT_PRICE, MASTER_KEY, OUTPUT_PRICE, OperatorStack
from toolrelay.cli import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    operator_stack: OperatorStack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    monkeypatch.setenv("TOOLRELAY_URL", operator_stack.gateway.url)
    monkeypatch.setenv("TOOLRELAY_API_KEY", MASTER_KEY)
    monkeypatch.setenv("TOOLRELAY_MIDDLEWARE_URL", operator_stack.middleware.url)
    monkeypatch.setenv("COLUMNS", "250")  # rich: no wrapped cells in the assertions

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def as_json(run: Run, *args: str) -> Any:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_status(run: Run, operator_stack: OperatorStack) -> None:
    code, out, _ = run("status")
    assert code == 0
    assert "gateway" in out and "middleware" in out and "mcp test" in out
    data = as_json(run, "status")
    assert data["gateway"]["status"] == "healthy"
    assert data["gateway"]["version"]
    assert [s["name"] for s in data["middleware"]["mcp_servers"]] == ["test"]


def test_litellm_proxy_variables_work_too(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    url = __import__("os").environ["TOOLRELAY_URL"]
    monkeypatch.delenv("TOOLRELAY_URL")
    monkeypatch.delenv("TOOLRELAY_API_KEY")
    monkeypatch.setenv("LITELLM_PROXY_URL", url)
    monkeypatch.setenv("LITELLM_PROXY_API_KEY", MASTER_KEY)
    assert {m["model_name"] for m in as_json(run, "models", "list")} == {"op-fixed", "op-tools"}


def test_models_list_and_test(run: Run) -> None:
    code, out, _ = run("models", "list")
    assert code == 0 and "op-fixed" in out and "openai/fixed" in out
    code, out, _ = run("models", "test", "op-fixed")
    assert code == 0 and "latency_ms" in out and "Hello from the fake upstream." in out
    result = as_json(run, "models", "test", "op-fixed")
    assert result["ok"] is True
    assert result["latency_ms"] > 0
    assert result["completion_tokens"] >= 1
    # the gateway's own price for the call (the deployment's input/output_cost_per_token)
    assert result["cost_usd"] == pytest.approx(
        result["prompt_tokens"] * INPUT_PRICE + result["completion_tokens"] * OUTPUT_PRICE
    )


def test_keys_lifecycle(run: Run) -> None:
    alias = f"op-{uuid.uuid4().hex[:8]}"
    created = as_json(
        run, "keys", "create", "--alias", alias, "--models", "op-fixed", "--max-budget", "5"
    )
    key = created["key"]
    assert key.startswith("sk-")
    listed = as_json(run, "keys", "list")
    assert alias in [k["key_alias"] for k in listed["keys"]]
    code, out, _ = run("keys", "list")
    assert code == 0 and alias in out
    info = as_json(run, "keys", "info", key)
    assert info["key_alias"] == alias and info["max_budget"] == 5
    code, out, _ = run("keys", "info", key)
    assert code == 0 and alias in out
    updated = as_json(run, "keys", "update", key, "--max-budget", "7")
    assert updated["max_budget"] == 7
    assert as_json(run, "keys", "block", key)["blocked"] is True
    code, out, _ = run("keys", "block", key, "--unblock")
    assert code == 0 and "unblocked" in out
    assert as_json(run, "keys", "delete", key)["deleted_keys"] == [key]
    code, out, err = run("keys", "info", key)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_spend_by_model(run: Run, operator_stack: OperatorStack) -> None:
    httpx.post(
        f"{operator_stack.gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        json={"model": "op-fixed", "messages": [{"role": "user", "content": "spend me"}]},
        timeout=30,
    ).raise_for_status()
    deadline = time.monotonic() + 30
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not rows:  # spend is written in batches
        rows = [r for r in as_json(run, "spend", "--by", "model") if r["model"] == "op-fixed"]
        if not rows:
            time.sleep(0.2)
    assert rows and rows[0]["requests"] >= 1 and rows[0]["tokens"] > 0
    code, out, _ = run("spend", "--by", "model", "--since", "1d")
    assert code == 0 and "op-fixed" in out
    code, _, err = run("spend", "--since", "soon")
    assert code == 1 and "expected a duration" in err


def test_tools_list_and_call(run: Run) -> None:
    code, out, _ = run("tools", "list")
    assert code == 0 and "echo" in out
    servers = as_json(run, "tools", "list")
    assert [t["name"] for t in servers[0]["tools"]] == ["echo"]
    code, out, _ = run("tools", "call", "echo", "--arg", "text=relayed")
    assert code == 0 and "relayed" in out
    result = as_json(run, "tools", "call", "echo", "--arg", "text=relayed")
    assert result["content"][0]["text"].endswith("relayed")
    code, _, err = run("tools", "call", "nope")
    assert code == 1 and len(err.strip().splitlines()) == 1


def _script(stack: OperatorStack, replies: list[dict[str, Any]]) -> None:
    httpx.post(
        f"{stack.upstream.url}/__fake__/script", json={"model": "op-tools", "replies": replies}
    ).raise_for_status()


def test_chat_shows_tool_progress(run: Run, operator_stack: OperatorStack) -> None:
    call = {"tool_calls": [{"name": "echo", "arguments": {"text": "from-chat"}}]}
    _script(operator_stack, [call, {"text": "The tool said from-chat."}])
    code, out, _ = run("chat", "op-tools", "use the tool")
    assert code == 0
    assert "[tool] echo(" in out and "from-chat" in out
    assert out.index("[tool] echo") < out.index("The tool said from-chat.")
    assert "<details" not in out
    _script(operator_stack, [call, {"text": "Done."}])
    result = as_json(run, "chat", "op-tools", "use the tool")
    assert result["content"].strip() == "Done."
    assert [t["name"] for t in result["tools"]] == ["echo"]
    assert result["usage"]["total_tokens"] > 0


def test_unreachable_gateway_is_one_line(run: Run) -> None:
    code, out, err = run("models", "list", "--url", "http://127.0.0.1:9")
    assert code == 1 and out == ""
    assert err.strip() == "toolrelay models: http://127.0.0.1:9: cannot connect (ConnectError)"


def _rows(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text())["tables"])


def test_backup_restore_sqlite_round_trip(
    run: Run, operator_stack: OperatorStack, tmp_path: Path
) -> None:
    as_json(run, "keys", "create", "--alias", f"bk-{uuid.uuid4().hex[:6]}")
    source = f"sqlite:///{operator_stack.home / 'toolrelay.db'}"
    first = tmp_path / "first.json"
    code, out, _ = run("backup", str(first), "--database-url", source)
    assert code == 0 and "backed up" in out
    empty = f"sqlite:///{tmp_path / 'restored.db'}"
    result = as_json(run, "restore", str(first), "--database-url", empty)
    assert result["rows"]["virtual_keys"] >= 1
    second = tmp_path / "second.json"
    as_json(run, "backup", str(second), "--database-url", empty)
    assert _rows(first) == _rows(second)
    code, _, err = run("restore", str(first), "--database-url", empty)
    assert code == 1 and "empty database only" in err


def test_backup_restore_postgres_round_trip(
    run: Run, operator_stack: OperatorStack, tmp_path: Path
) -> None:
    if not tcp_port_open("127.0.0.1", 5432):
        pytest.fail("PostgreSQL is not running on 127.0.0.1:5432")
    names = [f"toolrelay_op_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = POSTGRES_DSN.rsplit("/", 1)[0] + "/postgres"

    async def manage(statement: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            for name in names:
                await conn.execute(statement.format(name=name))
        finally:
            await conn.close()

    anyio.run(manage, "CREATE DATABASE {name}")
    try:
        urls = [f"{admin.rsplit('/', 1)[0]}/{name}" for name in names]
        source = f"sqlite:///{operator_stack.home / 'toolrelay.db'}"
        original = tmp_path / "original.json"
        as_json(run, "backup", str(original), "--database-url", source)
        as_json(run, "restore", str(original), "--database-url", urls[0])
        from_pg = tmp_path / "from-pg.json"
        as_json(run, "backup", str(from_pg), "--database-url", urls[0])
        as_json(run, "restore", str(from_pg), "--database-url", urls[1])
        again = tmp_path / "again.json"
        code, out, _ = run("backup", str(again), "--database-url", urls[1])
        assert code == 0 and "backed up" in out
        assert _rows(from_pg) == _rows(again)
        counts = {table: len(rows) for table, rows in _rows(original).items()}
        assert {table: len(rows) for table, rows in _rows(again).items()} == counts
    finally:
        anyio.run(manage, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")
