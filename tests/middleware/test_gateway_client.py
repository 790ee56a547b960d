"""Reading the gateway's whole answers into the chat contract: a well-formed one is relayed
untouched, an upstream's quirks are put in shape for the loop. In process (MockTransport)."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import orjson
import pytest

from middleware.errors import GatewayHTTPError
from middleware.gateway_client import GatewayClient


async def _answer(body: object, status: int = 200) -> dict[str, Any]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=orjson.dumps(body))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    gateway = GatewayClient("http://gw.test", timeout=5, client=http)
    try:
        request = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        return dict(await gateway.chat(request, None))
    finally:
        await gateway.aclose()


def _completion(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 7,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "total_tokens": 3,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
        **extra,
    }


@pytest.mark.anyio
async def test_a_well_formed_answer_is_relayed_as_it_came() -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "now", "arguments": "{}"},
        "extra_content": {"google": {"thought_signature": "sig"}},
    }
    sent = _completion(
        {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]},
        system_fingerprint="fp_1",
    )
    assert await _answer(copy.deepcopy(sent)) == sent


@pytest.mark.anyio
async def test_an_upstreams_quirks_are_put_in_shape() -> None:
    message = {
        "role": "assistant",
        "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "Hi"}],
        "tool_calls": [
            {"function": {"name": "now", "arguments": {"tz": "UTC"}}},
            "junk",
            {"id": 5, "function": "junk"},
        ],
    }
    got = await _answer(_completion(message, usage={"total_tokens": "3"}))

    shaped = got["choices"][0]["message"]
    assert shaped["content"] == "Hi"
    assert shaped["tool_calls"] == [
        {"id": "", "type": "function", "function": {"name": "now", "arguments": '{"tz":"UTC"}'}},
        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
    ]
    assert got["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


@pytest.mark.anyio
@pytest.mark.parametrize(
    "choices", [None, [], ["junk"], [{"message": "junk"}], [{"finish_reason": "stop"}]]
)
async def test_no_usable_choice_is_an_empty_answer(choices: object) -> None:
    got = await _answer({"id": "chatcmpl-1", "choices": choices, "usage": None})
    assert got["choices"] == []
    assert "usage" not in got


@pytest.mark.anyio
async def test_a_null_tool_calls_and_a_bad_finish_reason() -> None:
    got = await _answer(
        {"choices": [{"message": {"role": "assistant", "content": "ok", "tool_calls": None}}]}
    )
    assert got["choices"] == [
        {"message": {"role": "assistant", "content": "ok"}, "finish_reason": None}
    ]


@pytest.mark.anyio
async def test_a_non_object_answer_is_a_502() -> None:
    with pytest.raises(GatewayHTTPError) as caught:
        await _answer(["not", "an", "object"])
    assert caught.value.status == 502
