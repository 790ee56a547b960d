"""MCP calls of a mixed turn carried through a Responses client in a reasoning item, and
given back to the model as the calls and results they were."""

from __future__ import annotations

from typing import Any

from common.responses.request import chat_request, input_items
from middleware.progress import ProgressCall, render_block
from middleware.responses_carry import PREFIX, carry_item, expand_carried

CALL = ProgressCall("call_1", "execute_sql", '{"sql":"select 1"}', '| 1 |\n"quoted" <b>')


def _client_turn(carried: dict[str, Any]) -> list[dict[str, Any]]:
    """What a client sends back after a mixed turn: the output items, then its result."""
    return [
        {"role": "user", "content": "go"},
        carried,
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "ok"}],
        },
        {"type": "function_call", "call_id": "c9", "name": "now", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c9", "output": "12:00"},
    ]


def test_no_mcp_calls_carry_nothing() -> None:
    assert carry_item([]) is None
    assert carry_item(["plain text, no block"]) is None


def test_carried_calls_come_back_as_a_valid_chat_history() -> None:
    carried = carry_item([render_block(CALL)])
    assert carried is not None and carried["type"] == "reasoning"
    assert carried["encrypted_content"].startswith(PREFIX)
    assert "execute_sql" not in carried["encrypted_content"]  # opaque, not readable text

    body = chat_request({"model": "m"}, expand_carried(input_items(_client_turn(carried))))

    assert body["messages"] == [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "execute_sql", "arguments": '{"sql":"select 1"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '| 1 |\n"quoted" <b>'},
        {
            "role": "assistant",
            "content": "ok",
            "tool_calls": [
                {"id": "c9", "type": "function", "function": {"name": "now", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c9", "content": "12:00"},
    ]


def test_other_reasoning_items_are_left_alone() -> None:
    foreign = [
        {"type": "reasoning", "summary": [], "encrypted_content": "gAAAA-openai-blob"},
        {"type": "reasoning", "summary": [], "encrypted_content": PREFIX + "%%not base64%%"},
        {"type": "reasoning", "summary": []},
    ]
    assert expand_carried(foreign) == foreign
