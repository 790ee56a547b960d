"""An MCP server dies mid-conversation and comes back: no middleware restart needed."""

from __future__ import annotations

import time

from openai import OpenAI

from tests.middleware.stack import MASTER_KEY, Stack, start_test_mcp


def _ask(stack: Stack, text: str) -> str:
    stack.script(
        "mw-kill",
        [
            {"tool_calls": [{"name": "victim_echo", "arguments": {"text": text}}]},
            {"text": f"done {text}"},
        ],
    )
    client = OpenAI(base_url=stack.base_url, api_key=MASTER_KEY, max_retries=0, timeout=60)
    reply = client.chat.completions.create(
        model="mw-kill", messages=[{"role": "user", "content": text}]
    )
    assert reply.choices[0].message.content == f"done {text}"
    last = stack.received("mw-kill")[-1]
    return str([m for m in last["messages"] if m["role"] == "tool"][-1]["content"])


def _wait_health(stack: Stack, name: str, health: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while stack.status()[name]["health"] != health:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} never became {health}: {stack.status()[name]}")
        time.sleep(0.05)


def test_server_killed_then_restarted(stack: Stack, service_log_dir: object) -> None:
    victim = stack.mcp["victim"]
    assert _ask(stack, "before") == "echo: before"

    victim.process.kill()  # a crash, not a clean shutdown
    victim.process.wait(10)
    down = _ask(stack, "during")
    assert down.startswith("Tool error")
    _wait_health(stack, "victim", "unhealthy")
    assert stack.status()["victim"]["last_error"]

    stack.mcp["victim"] = start_test_mcp(victim.log_path.parent, port=victim.port, only=["echo"])
    _wait_health(stack, "victim", "healthy")
    assert _ask(stack, "after") == "echo: after"
