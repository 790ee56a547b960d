"""Upstream faults through a real gateway process: what the client sees, recovery without a
restart, and a spend row for every request (success or failure)."""

from __future__ import annotations

import socket

import anyio
import httpx
import openai
import pytest

from tests.reliability.stack import Stack, wait_spend_rows

FAULTS = {
    # model: (status of a non-streaming call, error type in the body)
    "error-500": (500, "api_error"),
    "error-503": (503, None),
    "error-429": (429, "rate_limit_error"),
    "hang": (408, "timeout"),
    "disconnect": (503, "api_error"),
    "malformed": (502, "api_error"),
}


def _client(stack: Stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{stack.url}/v1", api_key=key, max_retries=0, timeout=30)


def _ask(client: openai.OpenAI, model: str, text: str = "ping") -> str:
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}]
    )
    return reply.choices[0].message.content or ""


@pytest.mark.parametrize("model", sorted(FAULTS))
def test_fault_is_a_clean_openai_error_and_the_gateway_recovers(stack: Stack, model: str) -> None:
    key = stack.new_key()
    client = _client(stack, key)
    status, error_type = FAULTS[model]
    with pytest.raises(openai.APIStatusError) as caught:
        _ask(client, model)
    assert caught.value.status_code == status
    body = caught.value.response.json()
    assert set(body["error"]) >= {"message", "type", "code"}
    if error_type is not None:
        assert body["error"]["type"] == error_type
    assert "Traceback" not in caught.value.response.text
    # streaming: the failure is either an HTTP error or an SSE error event, never a hang
    with pytest.raises(openai.APIError):
        for _ in client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "ping"}], stream=True
        ):
            pass
    assert _ask(client, "echo", "after the fault") == "after the fault"
    rows = wait_spend_rows(stack, key, 3)
    assert sorted(str(r["status"]) for r in rows) == ["failure", "failure", "success"]


@pytest.mark.anyio
async def test_bursts_of_5xx_and_429_storms_leave_the_gateway_serving(stack: Stack) -> None:
    key = stack.new_key()
    headers = {"authorization": f"Bearer {key}"}
    statuses: list[int] = []

    async def one(client: httpx.AsyncClient, model: str) -> None:
        response = await client.post(
            "/v1/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": "x"}]},
        )
        statuses.append(response.status_code)
        response.json()  # always JSON, never an HTML or empty error page

    async with httpx.AsyncClient(base_url=stack.url, headers=headers, timeout=30) as client:
        async with anyio.create_task_group() as tg:
            for i in range(120):
                tg.start_soon(one, client, ("error-500", "error-429", "error-503")[i % 3])
        assert sorted(set(statuses)) == [429, 500, 503]
        statuses.clear()
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(one, client, "echo")
        assert statuses == [200] * 20
    rows = wait_spend_rows(stack, key, 140)
    assert len(rows) == 140


def test_slow_stream_arrives_whole(stack: Stack) -> None:
    client = _client(stack, stack.new_key())
    chunks = client.chat.completions.create(
        model="slow-stream-20",
        messages=[{"role": "user", "content": "one two three four five"}],
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text


def test_slow_loris_clients_do_not_block_others(stack: Stack) -> None:
    host, port = stack.url.removeprefix("http://").split(":")
    loris = []
    try:
        for _ in range(50):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
            )
            loris.append(sock)
        client = _client(stack, stack.new_key())
        assert _ask(client, "echo", "still served") == "still served"
    finally:
        for sock in loris:
            sock.close()
