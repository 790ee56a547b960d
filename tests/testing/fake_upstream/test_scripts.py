"""Scripted reply sequences: queued per model name, consumed one per request, then fallback."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai import OpenAI

from testing.fake_upstream import FIXED_TEXT

USER = [{"role": "user", "content": "How many users are there?"}]
SQL_TOOL = [
    {
        "type": "function",
        "function": {
            "name": "execute_sql",
            "parameters": {"type": "object", "properties": {"sql": {"type": "string"}}},
        },
    }
]


def _script(control: httpx.Client, model: str, replies: list[dict[str, object]]) -> None:
    response = control.post("/__fake__/script", json={"model": model, "replies": replies})
    assert response.status_code == 200, response.text


def test_script_plays_tool_call_then_answer_then_falls_back(
    client: OpenAI, control: httpx.Client
) -> None:
    model = "scripted-sql-agent"
    _script(
        control,
        model,
        [
            {"tool_calls": [{"name": "execute_sql", "arguments": {"sql": "select count(*)"}}]},
            {"text": "There are 42 users."},
        ],
    )

    first = client.chat.completions.create(model=model, messages=USER, tools=SQL_TOOL)
    call = (first.choices[0].message.tool_calls or [])[0]
    second = client.chat.completions.create(
        model=model,
        messages=[
            *USER,
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "[[42]]"},
        ],
        tools=SQL_TOOL,
    )
    third = client.chat.completions.create(model=model, messages=USER)

    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "execute_sql"
    assert json.loads(call.function.arguments) == {"sql": "select count(*)"}
    assert second.choices[0].message.content == "There are 42 users."
    assert third.choices[0].message.content == FIXED_TEXT


def test_scripted_tool_call_streams_with_split_arguments(
    client: OpenAI, control: httpx.Client
) -> None:
    model = "scripted-stream-tool"
    arguments = {"sql": "select name from users where id = 1"}
    _script(control, model, [{"tool_calls": [{"name": "execute_sql", "arguments": arguments}]}])

    chunks = list(
        client.chat.completions.create(model=model, messages=USER, tools=SQL_TOOL, stream=True)
    )
    deltas = [d for c in chunks for d in c.choices[0].delta.tool_calls or []]

    assert {d.index for d in deltas} == {0}
    pieces = [d.function.arguments for d in deltas if d.function and d.function.arguments]
    assert len(pieces) > 1
    assert json.loads("".join(pieces)) == arguments


def test_scripted_error_then_recovery(client: OpenAI, control: httpx.Client) -> None:
    model = "scripted-flaky"
    _script(
        control,
        model,
        [{"error": {"status": 503, "message": "try again"}}, {"text": "recovered"}],
    )

    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model=model, messages=USER)
    completion = client.chat.completions.create(model=model, messages=USER)

    assert raised.value.status_code == 503
    assert raised.value.message.endswith("try again")
    assert completion.choices[0].message.content == "recovered"


def test_name_behaviour_still_paces_a_scripted_reply(client: OpenAI, control: httpx.Client) -> None:
    model = "scripted+slow-stream-1"
    _script(control, model, [{"text": "paced words here"}])

    chunks = list(client.chat.completions.create(model=model, messages=USER, stream=True))

    assert [c.choices[0].delta.content for c in chunks[1:-1]] == ["paced ", "words ", "here"]


def _answer_after_tool(first: object, result: str) -> list[dict[str, object]]:
    """The conversation after `first`'s tool call and its result, as a tool loop sends it."""
    message = first.choices[0].message  # type: ignore[attr-defined]
    call = message.tool_calls[0]
    return [
        *USER,
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": result},
    ]


def test_script_by_turn_plays_for_every_conversation(client: OpenAI, control: httpx.Client) -> None:
    model = "by-turn-sql-agent"
    response = control.post(
        "/__fake__/script",
        json={
            "model": model,
            "by_turn": True,
            "replies": [
                {"tool_calls": [{"name": "execute_sql", "arguments": {"sql": "select 1"}}]},
                {"text": "It is 1."},
            ],
        },
    )
    assert response.status_code == 200, response.text

    # Two conversations interleaved, as under load: each gets the call, then the answer.
    firsts = [
        client.chat.completions.create(model=model, messages=USER, tools=SQL_TOOL) for _ in range(2)
    ]
    seconds = [
        client.chat.completions.create(
            model=model, messages=_answer_after_tool(first, "[[1]]"), tools=SQL_TOOL
        )
        for first in firsts
    ]
    # A new question in the same conversation starts the script over.
    again = client.chat.completions.create(
        model=model,
        messages=[
            *_answer_after_tool(firsts[0], "[[1]]"),
            seconds[0].choices[0].message.model_dump(exclude_none=True),
            {"role": "user", "content": "and again?"},
        ],
        tools=SQL_TOOL,
    )
    # Past the script's end, the name's behaviour answers.
    past_end = client.chat.completions.create(
        model=model,
        messages=[
            *_answer_after_tool(firsts[0], "[[1]]"),
            {"role": "assistant", "content": "It is 1."},
            {"role": "assistant", "content": "Anything else?"},
        ],
    )

    for first in firsts:
        (call,) = first.choices[0].message.tool_calls or []
        assert call.function.name == "execute_sql"
        assert json.loads(call.function.arguments) == {"sql": "select 1"}
    assert [s.choices[0].message.content for s in seconds] == ["It is 1.", "It is 1."]
    assert again.choices[0].finish_reason == "tool_calls"
    assert past_end.choices[0].message.content == FIXED_TEXT
    assert model in [m.id for m in client.models.list().data]
    assert control.delete("/__fake__/script", params={"model": model}).status_code == 200
    cleared = client.chat.completions.create(model=model, messages=USER, tools=SQL_TOOL)
    assert cleared.choices[0].message.content == FIXED_TEXT


def test_delete_clears_scripts(client: OpenAI, control: httpx.Client) -> None:
    model = "scripted-cleared"
    _script(control, model, [{"text": "never said"}])

    assert control.delete("/__fake__/script").status_code == 200
    completion = client.chat.completions.create(model=model, messages=USER)

    assert completion.choices[0].message.content == FIXED_TEXT


@pytest.mark.parametrize(
    "body",
    [
        {"replies": [{"text": "x"}]},
        {"model": "m", "replies": []},
        {"model": "m", "replies": [{}]},
        {"model": "m", "replies": [{"text": "x", "error": {"status": 500}}]},
        {"model": "m", "replies": [{"error": {"status": 200}}]},
    ],
)
def test_invalid_script_is_rejected_with_a_reason(
    control: httpx.Client, body: dict[str, object]
) -> None:
    response = control.post("/__fake__/script", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Invalid script:")
