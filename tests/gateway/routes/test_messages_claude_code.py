"""The real Claude Code CLI (pinned, from npm) through `/v1/messages`, streaming, against the
fake upstream speaking OpenAI, Anthropic and Gemini: it answers, and it completes a task that
makes it call its own `Write` tool (the file then exists).

What Claude Code 2.1.332 sends (recorded; see tests/gateway/anthropic_api/fixtures/): a
system-role message inside `messages`, adaptive thinking, `output_config.effort`,
`context_management` and a dozen tools. The assertions on what the upstream received check
that each of those was translated, not just tolerated.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients.claude_code.claude_cli import ClaudeRun, ensure_claude_code, run_claude
from tests.gateway.providers.stack import MASTER_KEY, Stack, running_stack

BACKENDS = ("openai", "anthropic", "gemini")
UPSTREAM_MODEL = "scripted"  # `<backend>-scripted` deployments all call upstream model `scripted`


@pytest.fixture(scope="module")
def claude_cli() -> Path:
    return ensure_claude_code()


@pytest.fixture(scope="module")
def stack(service_log_dir: Path, claude_cli: Path) -> Iterator[Stack]:
    with running_stack(service_log_dir) as running:
        yield running


def _clear(stack: Stack) -> None:
    httpx.delete(f"{stack.upstream.url}/__fake__/script", timeout=10).raise_for_status()
    httpx.delete(f"{stack.upstream.url}/__fake__/requests", timeout=10).raise_for_status()


def _received(stack: Stack) -> list[dict[str, Any]]:
    """What the upstream got for the scripted model (Gemini names it in the path)."""
    response = httpx.get(f"{stack.upstream.url}/__fake__/requests", timeout=10)
    response.raise_for_status()
    return [
        entry
        for entry in response.json()["data"]
        if (entry["body"] or {}).get("model") == UPSTREAM_MODEL
        or f"/{UPSTREAM_MODEL}:" in entry["path"]
    ]


def _claude(claude_cli: Path, stack: Stack, backend: str, tmp_path: Path, prompt: str) -> ClaudeRun:
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    return run_claude(
        claude_cli,
        prompt,
        base_url=stack.gateway_url,
        token=MASTER_KEY,
        model=f"{backend}-scripted",
        workdir=workdir,
        home=tmp_path / "home",
        allowed_tools=("Write",),
    )


def _assert_ok(run: ClaudeRun) -> None:
    assert run.returncode == 0, (run.result, run.stderr)
    assert run.result.get("is_error") is False, (run.result, run.stderr)


def _system_text(entry: dict[str, Any], backend: str) -> str:
    body = entry["body"]
    if backend == "openai":
        systems = [m for m in body["messages"] if m["role"] == "system"]
        assert len(systems) == 1 and body["messages"][0]["role"] == "system"
        return str(systems[0]["content"])
    if backend == "anthropic":
        assert all(m["role"] in ("user", "assistant") for m in body["messages"])
        return "".join(b["text"] for b in body["system"])
    return "".join(p.get("text", "") for p in body["systemInstruction"]["parts"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_claude_code_answers(backend: str, claude_cli: Path, stack: Stack, tmp_path: Path) -> None:
    _clear(stack)
    stack.script(UPSTREAM_MODEL, [{"text": "Hello from behind toolrelay."}])
    run = _claude(claude_cli, stack, backend, tmp_path, "Say hello.")
    _assert_ok(run)
    assert run.result["result"] == "Hello from behind toolrelay."

    received = _received(stack)
    assert received, "the upstream got nothing"
    entry = received[-1]
    assert entry["status"] == 200 and entry["completed"]
    # The environment details Claude Code sends as a system-role message reach the model as
    # part of its system prompt, whatever the provider.
    assert "# Environment" in _system_text(entry, backend)
    body = entry["body"]
    if backend == "openai":
        assert body["stream"] is True
        assert body["reasoning_effort"] == "high"  # output_config.effort
        assert {t["function"]["name"] for t in body["tools"]} >= {"Write", "ToolSearch"}
    elif backend == "anthropic":
        # Passed through: the newer fields reach Anthropic unchanged, with the client's betas.
        assert body["output_config"] == {"effort": "high"}
        assert body["thinking"]["type"] == "adaptive"
        assert "context_management" in body
        assert "context-management-2025-06-27" in entry["headers"]["anthropic-beta"]
    else:
        assert entry["path"].endswith(":streamGenerateContent")
        assert body["generationConfig"]["thinkingConfig"]["thinkingBudget"] > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_claude_code_writes_a_file_with_its_write_tool(
    backend: str, claude_cli: Path, stack: Stack, tmp_path: Path
) -> None:
    _clear(stack)
    target = tmp_path / "work" / "hello.txt"
    stack.script(
        UPSTREAM_MODEL,
        [
            {
                "tool_calls": [
                    {
                        "name": "Write",
                        "arguments": {
                            "file_path": str(target),
                            "content": "written via toolrelay\n",
                        },
                    }
                ]
            },
            {"text": "I wrote hello.txt."},
        ],
    )
    run = _claude(claude_cli, stack, backend, tmp_path, "Create hello.txt saying hi.")
    _assert_ok(run)
    assert target.read_text() == "written via toolrelay\n"
    assert run.result["result"] == "I wrote hello.txt."

    # The second model call carried the tool's result back, in the provider's own shape.
    last = _received(stack)[-1]["body"]
    if backend == "openai":
        assert any(m["role"] == "tool" for m in last["messages"])
    elif backend == "anthropic":
        blocks = [
            b for m in last["messages"] if isinstance(m["content"], list) for b in m["content"]
        ]
        assert any(b["type"] == "tool_result" for b in blocks)
    else:
        parts = [p for c in last["contents"] for p in c["parts"]]
        assert any("functionResponse" in p for p in parts)


def test_claude_code_with_a_virtual_key_is_billed_to_it(
    claude_cli: Path, stack: Stack, tmp_path: Path
) -> None:
    _clear(stack)
    admin = {"Authorization": f"Bearer {MASTER_KEY}"}
    key = httpx.post(
        f"{stack.gateway_url}/key/generate", headers=admin, json={"key_alias": "claude-code"}
    ).json()["key"]
    stack.script(UPSTREAM_MODEL, [{"text": "Billed to the key."}])
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = run_claude(
        claude_cli,
        "Say something.",
        base_url=stack.gateway_url,
        token=key,
        model="openai-scripted",
        workdir=workdir,
        home=tmp_path / "home",
    )
    _assert_ok(run)
    assert run.result["result"] == "Billed to the key."
    deadline = time.monotonic() + 20
    rows: list[dict[str, Any]] = []
    while not rows and time.monotonic() < deadline:
        rows = httpx.get(
            f"{stack.gateway_url}/spend/logs", headers=admin, params={"api_key": key}, timeout=10
        ).json()
        if not rows:
            time.sleep(0.1)
    assert rows and rows[0]["call_type"] == "messages" and rows[0]["key_alias"] == "claude-code"
    assert rows[0]["completion_tokens"] > 0
