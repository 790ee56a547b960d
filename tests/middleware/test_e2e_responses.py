"""`/v1/responses` on the middleware, end to end through the official OpenAI SDK: MCP tools
run here and only the model's answer (or calls to the client's own tools) comes back.

The scripted models are `tool-result` models: once their script is used up they answer with
the newest tool result they were given, so the answer shows the tool's real output reached the
model through the loop."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openai import BadRequestError, OpenAI
from openai.types.responses import ResponseFunctionToolCall, ResponseStreamEvent

from tests.middleware.stack import MASTER_KEY, Stack

ECHO = {"tool_calls": [{"name": "test_echo", "arguments": {"text": "tok-5150"}}]}
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city (runs on the client).",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def _client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=stack.base_url, api_key=MASTER_KEY, max_retries=0, timeout=60)


def _tool_results(body: dict[str, Any]) -> list[str]:
    return [str(m["content"]) for m in body["messages"] if m.get("role") == "tool"]


def test_create_runs_the_mcp_tool_here_and_answers(stack: Stack) -> None:
    stack.script("mw-resp+tool-result", [ECHO])

    response = _client(stack).responses.create(
        model="mw-resp+tool-result", instructions="Be brief.", input="echo tok-5150 please"
    )

    assert response.status == "completed"
    assert response.output_text == "echo: tok-5150"
    assert [item.type for item in response.output] == ["message"]
    assert response.usage is not None and response.usage.output_tokens >= 2  # both calls
    first, second = stack.received("mw-resp+tool-result")[-2:]
    assert first["messages"][0] == {"role": "system", "content": "Be brief."}
    assert "test_echo" in [t["function"]["name"] for t in first["tools"]]
    assert _tool_results(second) == ["echo: tok-5150"]


def test_stream_sends_openai_events_and_never_the_mcp_call(stack: Stack) -> None:
    stack.script("mw-resp-stream+tool-result", [ECHO])

    events: list[ResponseStreamEvent] = []
    with _client(stack).responses.stream(
        model="mw-resp-stream+tool-result", input=[{"role": "user", "content": "go"}]
    ) as stream:
        events.extend(stream)
        final = stream.get_final_response()

    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.function_call_arguments.delta" not in kinds
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "echo: tok-5150" == final.output_text
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert final.id == events[0].response.id  # type: ignore[union-attr]
    second = stack.received("mw-resp-stream+tool-result")[-1]
    assert second["stream"] is True and _tool_results(second) == ["echo: tok-5150"]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_client_tools_come_back_and_the_mcp_call_of_that_turn_is_kept(
    stack: Stack, stream: bool
) -> None:
    """One turn calls an MCP tool and the client's tool: the MCP call runs here, the client
    gets only its own call (and an opaque reasoning item), and when it sends the items back
    with its result the model sees both calls."""
    both = {
        "tool_calls": [
            {"name": "test_echo", "arguments": {"text": "mcp-side"}},
            {"name": "get_weather", "arguments": {"city": "Oslo"}},
        ]
    }
    stack.script("mw-resp-client", [both, {"text": "It is sunny in Oslo."}])
    client = _client(stack)
    conversation: list[Any] = [{"role": "user", "content": "weather in Oslo?"}]

    if stream:
        with client.responses.stream(
            model="mw-resp-client", input=conversation, tools=[WEATHER_TOOL]
        ) as events:
            first = events.get_final_response()
    else:
        first = client.responses.create(
            model="mw-resp-client", input=conversation, tools=[WEATHER_TOOL]
        )

    calls = [item for item in first.output if isinstance(item, ResponseFunctionToolCall)]
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", '{"city":"Oslo"}')]
    # the MCP call rode in an opaque reasoning item, not in text the client would show
    assert [item.type for item in first.output] == ["reasoning", "function_call"]
    assert first.output_text == ""
    conversation += [item.model_dump(exclude_none=True) for item in first.output]
    conversation.append(
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21 C"}
    )
    second = client.responses.create(
        model="mw-resp-client", input=conversation, tools=[WEATHER_TOOL]
    )

    assert second.output_text == "It is sunny in Oslo."
    seen = stack.received("mw-resp-client")[-1]
    assert _tool_results(seen) == ["echo: mcp-side", "sunny, 21 C"]


def test_hosted_tools_are_left_out_and_mcp_tools_offered(stack: Stack) -> None:
    stack.script("mw-resp-hosted+tool-result", [ECHO])

    response = _client(stack).responses.create(
        model="mw-resp-hosted+tool-result",
        input="hi",
        tools=[{"type": "web_search"}, WEATHER_TOOL],
    )

    assert response.output_text == "echo: tok-5150"
    offered = stack.received("mw-resp-hosted+tool-result")[-2]["tools"]
    assert all(tool["type"] == "function" for tool in offered)
    names = {tool["function"]["name"] for tool in offered}
    assert {"get_weather", "test_echo"} <= names


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"model": "mw-resp-client"}, "'input'"),
        ({"input": "hi"}, "'model'"),
        ({"model": "mw-resp-client", "input": "hi", "previous_response_id": "r"}, "stores no"),
        ({"model": "mw-resp-client", "input": [{"role": "robot", "content": "x"}]}, "role"),
        ({"model": "mw-resp-client", "input": 7}, "input"),
    ],
)
def test_bad_requests_are_400s_naming_the_problem(
    stack: Stack, body: dict[str, Any], fragment: str
) -> None:
    response = httpx.post(
        f"{stack.base_url}/responses",
        json=body,
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=30,
    )
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_sdk_surfaces_a_bad_request(stack: Stack) -> None:
    with pytest.raises(BadRequestError):
        _client(stack).responses.create(
            model="mw-resp-client", input="hi", previous_response_id="resp_x"
        )
