"""Errors and faults as the official SDK sees them: statuses, validation, auth, broken replies."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from tests.support.processes import ServiceProcess
from tests.testing.fake_upstream.conftest import TEST_KEY

USER = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_error_status_maps_to_sdk_exception(
    client: OpenAI, status: int, exception: type[openai.APIStatusError]
) -> None:
    with pytest.raises(exception) as raised:
        client.chat.completions.create(model=f"error-{status}", messages=USER)

    assert raised.value.status_code == status
    body = raised.value.body
    assert isinstance(body, dict)
    assert set(body) == {"message", "type", "param", "code"}
    assert isinstance(body["message"], str)
    assert body["message"]


def test_streamed_request_gets_the_error_status_before_any_chunk(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="error-429", messages=USER, stream=True)


def test_rate_limit_sends_retry_after(control: httpx.Client) -> None:
    response = control.post("/v1/chat/completions", json={"model": "error-429", "messages": USER})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("model", "code"),
    [
        ("context-window", "context_length_exceeded"),
        ("content-policy", "content_policy_violation"),
    ],
)
def test_special_400s_carry_their_codes(client: OpenAI, model: str, code: str) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=model, messages=USER)

    assert raised.value.code == code


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": USER}, "model"),
        ({"model": "fixed"}, "messages"),
        ({"model": "fixed", "messages": []}, "messages"),
    ],
)
def test_invalid_chat_requests_get_openai_400(
    control: httpx.Client, body: dict[str, object], param: str
) -> None:
    response = control.post("/v1/chat/completions", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


def test_body_that_is_not_json_gets_400(control: httpx.Client) -> None:
    response = control.post("/v1/chat/completions", content=b"{not json")

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_unknown_route_gets_openai_404(control: httpx.Client) -> None:
    response = control.post("/v1/nothing-here", json={})

    assert response.status_code == 404
    assert "error" in response.json()


def test_required_key_rejects_wrong_key_and_accepts_right_one(
    keyed_upstream: ServiceProcess,
) -> None:
    base_url = f"{keyed_upstream.url}/v1"
    with OpenAI(base_url=base_url, api_key="wrong", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as raised:
            wrong.chat.completions.create(model="fixed", messages=USER)
        assert raised.value.code == "invalid_api_key"
    with OpenAI(base_url=base_url, api_key=TEST_KEY, max_retries=0) as right:
        completion = right.chat.completions.create(model="fixed", messages=USER)
    assert completion.choices[0].message.content


def test_required_key_rejects_missing_header_but_health_stays_open(
    keyed_upstream: ServiceProcess,
) -> None:
    with httpx.Client(base_url=keyed_upstream.url) as http:
        rejected = http.get("/v1/models")
        health = http.get("/health")

    assert rejected.status_code == 401
    assert rejected.json()["error"]["code"] == "invalid_api_key"
    assert health.status_code == 200


def test_malformed_body_fails_to_parse_in_the_sdk(client: OpenAI) -> None:
    # The SDK reads a 200 `application/json` body with `json.loads` and lets the error through.
    with pytest.raises(json.JSONDecodeError):
        client.chat.completions.create(model="malformed", messages=USER)


def test_malformed_stream_line_fails_in_the_sdk(client: OpenAI) -> None:
    stream = client.chat.completions.create(model="malformed", messages=USER, stream=True)
    received = []
    with pytest.raises(json.JSONDecodeError):
        for chunk in stream:
            received.append(chunk)

    assert len(received) == 1  # one good chunk, then the garbage line


def test_disconnect_mid_stream_raises_connection_error(client: OpenAI) -> None:
    stream = client.chat.completions.create(model="disconnect", messages=USER, stream=True)
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            received.append(chunk)

    assert len(received) == 2


def test_disconnect_mid_body_raises_connection_error(client: OpenAI) -> None:
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="disconnect", messages=USER)


@pytest.mark.anyio
async def test_async_disconnect_mid_stream_raises_connection_error(
    async_client: AsyncOpenAI,
) -> None:
    stream = await async_client.chat.completions.create(
        model="disconnect", messages=USER, stream=True
    )
    with pytest.raises(openai.APIConnectionError):
        async for _chunk in stream:
            pass


def test_hang_never_answers(client: OpenAI) -> None:
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.5).chat.completions.create(model="hang", messages=USER)


def test_latency_holds_the_answer_back(client: OpenAI) -> None:
    # A latency far beyond the client's timeout: the answer must not come before it.
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.5).chat.completions.create(
            model="latency-60000", messages=USER
        )


def test_latency_holds_back_the_first_stream_chunk(client: OpenAI) -> None:
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.5).chat.completions.create(
            model="echo+latency-60000", messages=USER, stream=True
        )
