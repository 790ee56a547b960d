"""Accumulating one streamed model call: what passes through, what is gathered."""

from __future__ import annotations

from typing import Any

from middleware.stream_accumulator import StreamAccumulator


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "created": 7,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def test_text_and_reasoning_pass_through_and_tool_call_deltas_are_gathered() -> None:
    turn = StreamAccumulator()
    forwarded = [
        turn.add(_chunk({"role": "assistant", "content": ""})),
        turn.add(_chunk({"reasoning_content": "hmm"})),
        turn.add(_chunk({"content": "Let me check."})),
        turn.add(
            _chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "execute_sql", "arguments": ""},
                        }
                    ]
                }
            )
        ),
        turn.add(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"sql": '}}]})),
        turn.add(
            _chunk({"tool_calls": [{"index": 1, "id": "call_b", "function": {"name": "now"}}]})
        ),
        turn.add(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"select 1"}'}}]})),
        turn.add(_chunk({}, "tool_calls")),
        turn.add({"id": "chatcmpl-1", "choices": [], "usage": {"total_tokens": 9}}),
    ]

    assert forwarded == [
        None,
        {"reasoning_content": "hmm"},
        {"content": "Let me check."},
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    response = turn.response()
    assert response["id"] == "chatcmpl-1" and response["model"] == "m"
    (choice,) = response["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {
        "role": "assistant",
        "content": "Let me check.",
        "reasoning_content": "hmm",
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "execute_sql", "arguments": '{"sql": "select 1"}'},
            },
            {"id": "call_b", "type": "function", "function": {"name": "now", "arguments": ""}},
        ],
    }
    # a count the gateway left out is 0 (the loop sums the three counts)
    assert response["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 9}


def test_an_empty_stream_is_an_empty_answer() -> None:
    response = StreamAccumulator().response()
    assert response["choices"][0]["message"] == {"role": "assistant", "content": None}
    assert "usage" not in response


def test_calls_without_index_or_id_and_fields_of_the_wrong_type() -> None:
    """Some OpenAI-compatible servers stream whole calls without an `index`; junk is skipped."""
    turn = StreamAccumulator()
    whole = {"type": "function", "function": {"name": "now", "arguments": "{}"}}
    chunks: list[dict[str, Any]] = [
        _chunk({"tool_calls": [whole]}),
        _chunk({"tool_calls": [whole, "junk"]}),
        _chunk({"content": 7, "reasoning_content": None, "tool_calls": "junk"}),
        {"choices": "junk"},
        {"choices": [{"delta": "junk", "finish_reason": 1}]},
        {"choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}},
    ]

    assert [turn.add(chunk) for chunk in chunks] == [None] * len(chunks)
    response = turn.response()
    call = {"id": "", "type": "function", "function": {"name": "now", "arguments": "{}"}}
    assert response["choices"][0]["message"]["tool_calls"] == [call, call]
    assert response["choices"][0]["finish_reason"] is None
    assert response["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
