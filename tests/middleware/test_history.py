from __future__ import annotations

from middleware.history import prepare_history
from middleware.progress import ProgressCall, render_block

A = ProgressCall("call_a", "execute_sql", '{"sql": "select 1"}', "1 row")
B = ProgressCall("call_b", "fetch_url", '{"url": "http://x"}', "page")


def test_messages_without_blocks_are_untouched() -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert prepare_history(messages) is messages


def test_blocks_become_tool_calls_and_results() -> None:
    content = render_block(A) + render_block(B) + "The answer."
    out = prepare_history(
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": content}]
    )
    assert out[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "execute_sql", "arguments": '{"sql": "select 1"}'},
            },
            {
                "id": "call_b",
                "type": "function",
                "function": {"name": "fetch_url", "arguments": '{"url": "http://x"}'},
            },
        ],
    }
    assert out[2:4] == [
        {"role": "tool", "tool_call_id": "call_a", "content": "1 row"},
        {"role": "tool", "tool_call_id": "call_b", "content": "page"},
    ]
    assert out[4] == {"role": "assistant", "content": "The answer."}


def test_text_between_runs_splits_turns_and_client_calls_stay_last() -> None:
    client_call = {"id": "c1", "type": "function", "function": {"name": "now", "arguments": "{}"}}
    content = "Let me look.\n" + render_block(A) + "Now more.\n" + render_block(B)
    out = prepare_history([{"role": "assistant", "content": content, "tool_calls": [client_call]}])
    assert [m["role"] for m in out] == ["assistant", "tool", "assistant", "tool", "assistant"]
    assert out[0]["content"] == "Let me look."
    assert out[2]["content"] == "Now more."
    assert out[4] == {"role": "assistant", "content": None, "tool_calls": [client_call]}


def test_strip_mode_removes_blocks() -> None:
    out = prepare_history([{"role": "assistant", "content": render_block(A) + "Answer"}], "strip")
    assert out == [{"role": "assistant", "content": "Answer"}]


def test_blocks_for_calls_the_history_already_answers_are_not_duplicated() -> None:
    client_call = {
        "id": "call_b",
        "type": "function",
        "function": {"name": "fetch_url", "arguments": "{}"},
    }
    messages = [
        {
            "role": "assistant",
            "content": render_block(A) + render_block(B),
            "tool_calls": [client_call],
        },
        {"role": "tool", "tool_call_id": "call_b", "content": "page"},
    ]
    out = prepare_history(messages)
    ids = [m.get("tool_call_id") for m in out if m["role"] == "tool"]
    assert ids == ["call_a", "call_b"]
