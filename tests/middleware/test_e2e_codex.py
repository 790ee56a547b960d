"""The real Codex CLI (pinned, from npm) pointed at the middleware as a custom Responses
provider, run non-interactively (`codex exec`): the scripted model calls the postgres MCP
server's `execute_sql`, the middleware runs it, and the row it read is in Codex's answer. In a
turn that also calls Codex's own `exec_command`, Codex runs only that, and the model then sees
both results.

Codex 0.171.0 speaks only the Responses API to custom providers (`wire_api = "chat"` is
refused when the config loads). It sends its own function tools (`exec_command`, ...), a
`namespace` tool and the hosted `web_search` tool, `store: false`, and the whole conversation
as `input` items; the middleware must take all of that as it comes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.codex.codex_cli import ensure_codex, run_codex
from tests.middleware.conftest import FIXTURE_TABLE
from tests.middleware.stack import MASTER_KEY, Stack
from tests.support.components import require_component

MODEL = "mw-codex+tool-result"  # calls execute_sql, then answers with the tool's result
MIXED_MODEL = "mw-codex-mixed+tool-result"
NAMESPACE_MODEL = "mw-codex-namespace+tool-result"
SQL = {"sql": f"SELECT name FROM {FIXTURE_TABLE} WHERE id = 1"}


@pytest.fixture(scope="module")
def codex_cli() -> Path:
    return ensure_codex()


def test_codex_exec_answers_with_the_result_of_an_mcp_tool(
    stack: Stack, postgres_ready: bool, codex_cli: Path, tmp_path: Path
) -> None:
    require_component(postgres_ready, "PostgreSQL on 127.0.0.1:5432")
    stack.script(MODEL, [{"tool_calls": [{"name": "execute_sql", "arguments": SQL}]}])
    workdir = tmp_path / "work"
    workdir.mkdir()

    run = run_codex(
        codex_cli,
        f"What is the name in row 1 of the {FIXTURE_TABLE} table?",
        base_url=stack.base_url,
        key=MASTER_KEY,
        model=MODEL,
        workdir=workdir,
        home=tmp_path,
    )

    assert run.returncode == 0, run.stderr
    # The row exists only in PostgreSQL: it reached Codex through the MCP call.
    assert "toolrelay-row-alpha" in run.last_message
    answers = [str(item.get("text")) for item in run.completed_items("agent_message")]
    assert any("toolrelay-row-alpha" in text for text in answers)
    # Codex ran nothing itself: the call was the middleware's.
    assert run.completed_items("command_execution") == []
    first, second = stack.received(MODEL)[-2:]
    offered = {tool["function"]["name"] for tool in first["tools"]}
    assert {"execute_sql", "exec_command"} <= offered  # MCP tools merged with Codex's own
    assert first["stream"] is True
    results = [m["content"] for m in second["messages"] if m.get("role") == "tool"]
    assert len(results) == 1 and "toolrelay-row-alpha" in results[0]


def test_codex_runs_its_own_tool_and_the_middleware_the_mcp_one_in_the_same_turn(
    stack: Stack, postgres_ready: bool, codex_cli: Path, tmp_path: Path
) -> None:
    require_component(postgres_ready, "PostgreSQL on 127.0.0.1:5432")
    both = [
        {"name": "execute_sql", "arguments": SQL},
        {"name": "exec_command", "arguments": {"cmd": "echo codex-side-$((6*7))"}},
    ]
    stack.script(MIXED_MODEL, [{"tool_calls": both}])
    workdir = tmp_path / "work"
    workdir.mkdir()

    run = run_codex(
        codex_cli,
        "Look up row 1, then run the echo.",
        base_url=stack.base_url,
        key=MASTER_KEY,
        model=MIXED_MODEL,
        workdir=workdir,
        home=tmp_path,
    )

    assert run.returncode == 0, run.stderr
    commands = run.completed_items("command_execution")
    assert [c["aggregated_output"] for c in commands] == ["codex-side-42\n"]  # shell expanded it
    assert "codex-side-42" in run.last_message  # the model answered with the newest result
    shown = " ".join(str(item.get("text")) for item in run.completed_items("agent_message"))
    assert "execute_sql" not in shown and "<details" not in shown
    # Codex sent the carried MCP call back: the model sees both calls and both results.
    last = stack.received(MIXED_MODEL)[-1]
    calls = [
        call["function"]["name"]
        for message in last["messages"]
        for call in message.get("tool_calls") or []
    ]
    assert calls == ["execute_sql", "exec_command"]
    results = [m["content"] for m in last["messages"] if m.get("role") == "tool"]
    assert "toolrelay-row-alpha" in results[0] and "codex-side-42" in results[1]


def test_codex_runs_a_tool_of_its_namespace_through_the_middleware(
    stack: Stack, codex_cli: Path, tmp_path: Path
) -> None:
    """Codex's sub-agent tools come as a `namespace`: offered as `multi_agent_v1__<name>`, and
    a call goes back to Codex with its namespace, so Codex runs it rather than refusing it."""
    call = {"name": "multi_agent_v1__wait_agent", "arguments": {"targets": []}}
    stack.script(NAMESPACE_MODEL, [{"tool_calls": [call]}])
    workdir = tmp_path / "work"
    workdir.mkdir()

    run = run_codex(
        codex_cli,
        "Wait for the agents.",
        base_url=stack.base_url,
        key=MASTER_KEY,
        model=NAMESPACE_MODEL,
        workdir=workdir,
        home=tmp_path,
    )

    assert run.returncode == 0, run.stderr
    assert "unsupported call" not in run.stderr
    first, second = stack.received(NAMESPACE_MODEL)[-2:]
    offered = {tool["function"]["name"] for tool in first["tools"]}
    assert {"multi_agent_v1__wait_agent", "multi_agent_v1__spawn_agent"} <= offered
    calls = [c["function"]["name"] for m in second["messages"] for c in m.get("tool_calls") or []]
    assert calls == ["multi_agent_v1__wait_agent"]
    results = [m["content"] for m in second["messages"] if m.get("role") == "tool"]
    assert len(results) == 1 and results[0]  # Codex's own answer to its tool
    assert results[0].strip() in run.last_message  # what the model then answered with
