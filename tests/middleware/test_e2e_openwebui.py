"""Open WebUI's behaviours (see shared/notes/open-webui.md), asserted on what the model got."""

from __future__ import annotations

from typing import Any

from openai import OpenAI

from tests.middleware.stack import MASTER_KEY, Stack

CLIENT_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_timestamp",
        "description": "Open WebUI built-in tool",
        "parameters": {"type": "object", "properties": {}},
    },
}


def _client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=stack.base_url, api_key=MASTER_KEY, max_retries=0, timeout=60)


def _no_raw_blocks(body: dict[str, Any]) -> bool:
    return all("<details" not in str(m.get("content") or "") for m in body["messages"])


def test_client_tool_calls_come_back_to_the_client(stack: Stack) -> None:
    stack.script(
        "mw-client", [{"tool_calls": [{"name": "get_current_timestamp", "arguments": {}}]}]
    )

    reply = _client(stack).chat.completions.create(
        model="mw-client",
        messages=[{"role": "user", "content": "what time is it?"}],
        tools=[CLIENT_TOOL],  # type: ignore[list-item]
    )

    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    assert [c.function.name for c in choice.message.tool_calls] == ["get_current_timestamp"]
    offered = {t["function"]["name"] for t in stack.received("mw-client")[0]["tools"]}
    assert {"get_current_timestamp", "barrier", "test_echo", "victim_echo"} <= offered


def test_mixed_turn_streams_mcp_progress_and_returns_client_calls_then_rebuilds(
    either_stack: Stack,
) -> None:
    stack = either_stack
    stack.script(
        "mw-client-stream",
        [
            {
                "tool_calls": [
                    {"name": "test_echo", "arguments": {"text": "from mcp"}},
                    {"name": "get_current_timestamp", "arguments": {}},
                ]
            },
            {"text": "It is noon, and echo said hi."},
        ],
    )
    client = _client(stack)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "echo and time"}]

    chunks = list(
        client.chat.completions.create(
            model="mw-client-stream",
            messages=messages,  # type: ignore[arg-type]
            tools=[CLIENT_TOOL],  # type: ignore[list-item]
            stream=True,
        )
    )

    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert 'name="test_echo"' in content and "echo: from mcp" in content
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    assert [tc.function.name for tc in calls if tc.function] == ["get_current_timestamp"]
    assert [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ] == ["tool_calls"]

    # Open WebUI runs its tool and comes back with the streamed content verbatim.
    call = calls[0]
    messages += [
        {
            "role": "assistant",
            "content": content,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": "get_current_timestamp", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "12:00"},
    ]
    final = client.chat.completions.create(
        model="mw-client-stream",
        messages=messages,  # type: ignore[arg-type]
        tools=[CLIENT_TOOL],  # type: ignore[list-item]
    )

    assert final.choices[0].message.content == "It is noon, and echo said hi."
    seen = stack.received("mw-client-stream")[-1]
    assert _no_raw_blocks(seen)
    roles = [m["role"] for m in seen["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant", "tool"]
    assert seen["messages"][1]["tool_calls"][0]["function"]["name"] == "test_echo"
    assert seen["messages"][2]["content"] == "echo: from mcp"
    assert seen["messages"][2]["tool_call_id"] == seen["messages"][1]["tool_calls"][0]["id"]
    assert seen["messages"][3]["tool_calls"][0]["id"] == call.id
    assert seen["messages"][4]["content"] == "12:00"


def test_task_requests_bypass_tools(stack: Stack) -> None:
    stack.script("mw-aux", [{"text": '{"title": "Chat"}'}])

    reply = _client(stack).chat.completions.create(
        model="mw-aux",
        messages=[{"role": "user", "content": "### Task:\nGenerate a concise title..."}],
        max_tokens=1000,
    )

    assert reply.choices[0].message.content == '{"title": "Chat"}'
    (body,) = stack.received("mw-aux")
    assert "tools" not in body
    assert body["max_tokens"] == 1000


def test_progress_blocks_in_history_become_tool_messages(stack: Stack) -> None:
    stack.script("mw-history", [{"text": "second answer"}])
    previous = (
        '<details type="tool_calls" done="true" id="call_9" name="execute_sql" '
        'arguments="{&quot;sql&quot;: &quot;select 1&quot;}" result="&quot;42&quot;">\n'
        "<summary>Tool Executed</summary>\n</details>\nThe answer is 42."
    )

    _client(stack).chat.completions.create(
        model="mw-history",
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": previous},
            {"role": "user", "content": "and now?"},
        ],
    )

    (body,) = stack.received("mw-history")
    assert _no_raw_blocks(body)
    messages = body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "user"]
    assert messages[1]["tool_calls"] == [
        {
            "id": "call_9",
            "type": "function",
            "function": {"name": "execute_sql", "arguments": '{"sql": "select 1"}'},
        }
    ]
    assert messages[2] == {"role": "tool", "tool_call_id": "call_9", "content": "42"}
    assert messages[3]["content"] == "The answer is 42."
