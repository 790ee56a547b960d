"""Request hooks run around every inference call: pre_call may refuse, post_call runs once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.config import config_from_mapping
from gateway.errors import PermissionDeniedError
from gateway.hooks import CallRecord
from gateway.state import GatewayState

CONFIG = {
    "model_list": [
        {
            "model_name": "m",
            "litellm_params": {"model": "openai/m", "api_base": "http://upstream.test/v1"},
        }
    ]
}
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


class RecordingHook:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.pre: list[CallRecord] = []
        self.post: list[CallRecord] = []

    async def pre_call(self, record: CallRecord) -> None:
        self.pre.append(record)
        if self.refuse:
            raise PermissionDeniedError("not for you")

    async def post_call(self, record: CallRecord) -> None:
        self.post.append(record)


def upstream(request: httpx.Request) -> httpx.Response:
    if b'"stream":true' in request.content:
        events = (
            b'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"yo"}}]}\n\n'
            b'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n'
            b"data: [DONE]\n\n"
        )
        return httpx.Response(200, content=events, headers={"content-type": "text/event-stream"})
    usage = {
        "prompt_tokens": 5,
        "completion_tokens": 2,
        "prompt_tokens_details": {"cached_tokens": 1},
    }
    return httpx.Response(
        200, json={"id": "c", "object": "chat.completion", "choices": [], "usage": usage}
    )


@pytest.fixture
async def app_and_client() -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    mock = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    app = create_app(config_from_mapping(CONFIG, environ={}), http=mock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        yield app, client
    await mock.aclose()


def state_of(app: Starlette) -> GatewayState:
    state = app.state.gateway
    assert isinstance(state, GatewayState)
    return state


@pytest.mark.anyio
async def test_post_call_gets_usage_once(
    app_and_client: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    hook = RecordingHook()
    state_of(app).hooks.append(hook)
    assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200
    assert len(hook.pre) == 1 and len(hook.post) == 1
    record = hook.post[0]
    assert (
        record.status,
        record.prompt_tokens,
        record.completion_tokens,
        record.cached_tokens,
    ) == ("success", 5, 2, 1)
    assert record.deployment is not None and record.deployment.model == "m"


@pytest.mark.anyio
async def test_stream_usage_recorded_but_not_relayed_unless_asked(
    app_and_client: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    hook = RecordingHook()
    state_of(app).hooks.append(hook)
    response = await client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert response.status_code == 200
    assert "usage" not in response.text
    assert response.text.endswith("data: [DONE]\n\n")
    assert len(hook.post) == 1 and hook.post[0].prompt_tokens == 3 and hook.post[0].stream

    asked = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    response = await client.post("/v1/chat/completions", json=asked)
    assert '"usage":{"prompt_tokens":3' in response.text


@pytest.mark.anyio
async def test_pre_call_refusal_skips_upstream_and_closes_earlier_hooks(
    app_and_client: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    first, refusing = RecordingHook(), RecordingHook(refuse=True)
    state_of(app).hooks.extend([first, refusing])
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "not for you"
    assert (
        len(first.post) == 1
        and first.post[0].status == "failure"
        and first.post[0].http_status == 403
    )
    assert refusing.post == []
