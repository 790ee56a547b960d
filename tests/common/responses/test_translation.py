"""Responses <-> chat translation, pure: input items, tools, formats, and the event order of a
stream that reasons, writes and calls tools."""

from __future__ import annotations

from typing import Any

import pytest

from common.responses.request import (
    ResponsesBodyError,
    chat_request,
    hosted_tool_types,
    input_items,
)
from common.responses.response import from_completion, history_items, skeleton
from common.responses.stream import ResponseEvents


def test_items_become_chat_messages_in_order() -> None:
    items = input_items(
        [
            {"role": "developer", "content": "dev rules"},
            {"role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "checking"}],
            },
            {"type": "function_call", "call_id": "c1", "name": "w", "arguments": '{"c":1}'},
            {"type": "function_call", "call_id": "c2", "name": "w", "arguments": "{}"},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": "rainy"}],
            },
        ]
    )
    body = chat_request({"model": "m", "instructions": "be brief", "max_output_tokens": 9}, items)
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "system", "content": "dev rules"},
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": "checking",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "w", "arguments": '{"c":1}'}},
                {"id": "c2", "type": "function", "function": {"name": "w", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "c2", "content": "rainy"},
    ]
    assert body["max_tokens"] == 9


def test_tools_formats_and_reasoning() -> None:
    body = chat_request(
        {
            "model": "m",
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
            "tool_choice": {"type": "function", "name": "f"},
            "text": {"format": {"type": "json_schema", "name": "o", "schema": {"type": "object"}}},
            "reasoning": {"effort": "low"},
            "stream": True,
        },
        input_items("hi"),
    )
    assert body["tools"] == [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "o", "schema": {"type": "object"}},
    }
    assert body["reasoning_effort"] == "low"
    assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("request_fields", "items", "fragment"),
    [
        ({"tools": [{"type": "file_search"}]}, "x", "'file_search' tools"),
        ({"text": {"format": {"type": "yaml"}}}, "x", "text.format"),
        ({"tool_choice": "sometimes"}, "x", "tool_choice"),
        ({}, [{"type": "item_reference", "id": "i"}], "'item_reference' items"),
        ({}, [{"role": "robot", "content": "x"}], "role"),
        ({}, [{"type": "function_call_output", "output": "x"}], "call_id"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    request_fields: dict, items: object, fragment: str
) -> None:  # type: ignore[type-arg]
    with pytest.raises(ResponsesBodyError) as raised:
        chat_request({"model": "m", **request_fields}, input_items(items))
    assert fragment in raised.value.message


def test_stream_events_reason_then_write_then_call() -> None:
    events = ResponseEvents(skeleton({"model": "m"}, "resp_1", "m"))
    chunks = [
        {"choices": [{"index": 0, "delta": {"reasoning_content": "hmm"}}]},
        {"choices": [{"index": 0, "delta": {"content": "Let me "}}]},
        {"choices": [{"index": 0, "delta": {"content": "check."}}]},
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "c1", "function": {"name": "w", "arguments": '{"a"'}}
                        ]
                    },
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]},
                }
            ]
        },
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
    ]
    out = [e for c in chunks for e in events.feed(c)] + list(events.close())
    assert [e["type"] for e in out] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = events.final
    assert final is not None and final["status"] == "completed"
    assert [item["type"] for item in final["output"]] == ["reasoning", "message", "function_call"]
    assert final["output"][2]["arguments"] == '{"a":1}'
    assert final["usage"]["total_tokens"] == 7
    assert history_items(final["output"]) == [
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Let me check."}],
        },
        {"type": "function_call", "call_id": "c1", "name": "w", "arguments": '{"a":1}'},
    ]


def test_a_length_stop_is_incomplete() -> None:
    events = ResponseEvents(skeleton({"model": "m"}, "resp_1", "m"))
    out = list(
        events.feed(
            {"choices": [{"index": 0, "delta": {"content": "cut"}, "finish_reason": "length"}]}
        )
    )
    out += list(events.close())
    assert out[-1]["type"] == "response.incomplete"
    assert out[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_hosted_tools_can_be_dropped_instead_of_refused() -> None:
    request = {
        "model": "m",
        "tools": [
            {"type": "web_search", "external_web_access": False},
            {"type": "function", "name": "f", "parameters": {"type": "object"}},
            {"type": "namespace", "name": "agents", "description": "d", "tools": []},
        ],
    }
    body = chat_request(request, input_items("hi"), hosted_tools="drop")
    assert [t["function"]["name"] for t in body["tools"]] == ["f"]
    with pytest.raises(ResponsesBodyError) as raised:
        chat_request(request, input_items("hi"))
    assert raised.value.param == "tools[0]"


CODEX_TOOLS: Any = [
    {"type": "function", "name": "exec_command", "parameters": {"type": "object"}},
    {
        "type": "namespace",
        "name": "multi_agent_v1",
        "description": "Tools for sub-agents.",
        "tools": [
            {"type": "function", "name": "wait_agent", "parameters": {"type": "object"}},
            {"type": "function", "name": "spawn_agent", "description": "Start one."},
        ],
    },
    {"type": "web_search", "external_web_access": True},
]


def test_a_namespace_becomes_chat_functions_and_its_calls_go_back_with_it() -> None:
    request = {"model": "m", "tools": CODEX_TOOLS}
    body = chat_request(request, input_items("hi"), hosted_tools="drop")
    assert [t["function"]["name"] for t in body["tools"]] == [
        "exec_command",
        "multi_agent_v1__wait_agent",
        "multi_agent_v1__spawn_agent",
    ]
    assert body["tools"][2]["function"]["description"] == "Start one."
    assert hosted_tool_types(CODEX_TOOLS) == ["web_search"]

    base = skeleton(request, "resp_1", "m")
    completion = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "tool_calls": [
                        _chat_call("c1", "multi_agent_v1__wait_agent"),
                        _chat_call("c2", "exec_command"),
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    calls = from_completion(base, completion)["output"]
    assert [(c["name"], c.get("namespace")) for c in calls] == [
        ("wait_agent", "multi_agent_v1"),
        ("exec_command", None),
    ]

    # Streamed, the same.
    events = ResponseEvents(skeleton(request, "resp_2", "m"))
    chunk = {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [{"index": 0, **_chat_call("c1", "multi_agent_v1__wait_agent")}]
                },
            }
        ]
    }
    out = [*events.feed(chunk), *events.close()]
    done = [e["item"] for e in out if e["type"] == "response.output_item.done"]
    assert done[0]["name"] == "wait_agent" and done[0]["namespace"] == "multi_agent_v1"

    # Sent back as history, the call is the chat function again.
    history = [*input_items("hi"), *history_items(calls[:1])]
    assert history[-1]["namespace"] == "multi_agent_v1"
    again = chat_request(request, history, hosted_tools="drop")
    assert again["messages"][-1]["tool_calls"][0]["function"]["name"] == (
        "multi_agent_v1__wait_agent"
    )


def test_tool_choice_names_a_namespaced_tool() -> None:
    request = {
        "model": "m",
        "tools": CODEX_TOOLS[:2],
        "tool_choice": {"type": "function", "name": "wait_agent", "namespace": "multi_agent_v1"},
    }
    body = chat_request(request, input_items("hi"))
    assert body["tool_choice"] == {
        "type": "function",
        "function": {"name": "multi_agent_v1__wait_agent"},
    }


def test_a_namespace_holds_function_tools_only() -> None:
    request = {
        "model": "m",
        "tools": [{"type": "namespace", "name": "n", "tools": [{"type": "web_search"}]}],
    }
    with pytest.raises(ResponsesBodyError) as raised:
        chat_request(request, input_items("hi"), hosted_tools="drop")
    assert raised.value.param == "tools[0].tools[0]"


def _chat_call(call_id: str, name: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}
