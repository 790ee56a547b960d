"""Request validation and error mapping, in process: the gateway app over httpx.ASGITransport,
with the upstream played by httpx.MockTransport where a failure must be simulated."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from gateway.app import create_app
from gateway.config import config_from_mapping

MASTER = "sk-test-master"
AUTH = {"authorization": f"Bearer {MASTER}"}
CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}


def make_config(max_mb: float | None = None) -> dict[str, object]:
    general: dict[str, object] = {"master_key": MASTER}
    if max_mb is not None:
        general["max_request_size_mb"] = max_mb
    return {
        "model_list": [
            {
                "model_name": "gpt-test",
                "litellm_params": {
                    "model": "openai/gpt-test",
                    "api_base": "http://upstream.test/v1",
                    "api_key": "sk-up",
                },
            },
            {
                "model_name": "other",
                "litellm_params": {"model": "openai/other", "api_base": "http://upstream.test/v1"},
            },
        ],
        "general_settings": general,
    }


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def upstream_handler() -> list[Handler]:
    return [lambda request: httpx.Response(500, json={"error": {"message": "unset"}})]


@pytest.fixture
async def client(upstream_handler: list[Handler]) -> AsyncIterator[httpx.AsyncClient]:
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: upstream_handler[0](r)))
    app = create_app(config_from_mapping(make_config(max_mb=0.01), environ={}), http=upstream)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c
    await upstream.aclose()


def assert_openai_error(
    response: httpx.Response, status: int, error_type: str
) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == error_type
    error: dict[str, object] = body["error"]
    return error


@pytest.mark.anyio
async def test_missing_key_is_401(client: httpx.AsyncClient) -> None:
    error = assert_openai_error(
        await client.post("/v1/chat/completions", json=CHAT), 401, "authentication_error"
    )
    assert "No API key" in str(error["message"])


@pytest.mark.anyio
async def test_wrong_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer nope"}
    )
    error = assert_openai_error(response, 401, "authentication_error")
    assert error["code"] == "invalid_api_key"


@pytest.mark.anyio
async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", content=b"{not json", headers=AUTH)
    error = assert_openai_error(response, 400, "invalid_request_error")
    assert error["code"] == "invalid_json"


@pytest.mark.anyio
async def test_non_object_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json=[1, 2], headers=AUTH)
    assert_openai_error(response, 400, "invalid_request_error")


@pytest.mark.anyio
async def test_missing_messages_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json={"model": "gpt-test"}, headers=AUTH)
    error = assert_openai_error(response, 400, "invalid_request_error")
    assert error["param"] == "messages"


@pytest.mark.anyio
async def test_missing_model_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/chat/completions", json={"messages": CHAT["messages"]}, headers=AUTH
    )
    error = assert_openai_error(response, 400, "invalid_request_error")
    assert error["param"] == "model"


@pytest.mark.anyio
async def test_unknown_model_is_400_naming_it_and_the_available_ones(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/chat/completions", json={**CHAT, "model": "gpt-9"}, headers=AUTH
    )
    error = assert_openai_error(response, 400, "invalid_request_error")
    assert "model=gpt-9" in str(error["message"])
    assert "gpt-test" in str(error["message"]) and "other" in str(error["message"])
    assert error["code"] == "model_not_found"


@pytest.mark.anyio
async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 20_000}]}
    response = await client.post("/v1/chat/completions", json=big, headers=AUTH)
    assert_openai_error(response, 413, "invalid_request_error")


@pytest.mark.anyio
async def test_unknown_route_is_404_in_openai_shape(client: httpx.AsyncClient) -> None:
    assert_openai_error(await client.get("/v1/nope", headers=AUTH), 404, "invalid_request_error")


@pytest.mark.anyio
async def test_upstream_timeout_is_408(
    client: httpx.AsyncClient, upstream_handler: list[Handler]
) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    upstream_handler[0] = timeout
    response = await client.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    error = assert_openai_error(response, 408, "timeout")
    assert "timed out" in str(error["message"])


@pytest.mark.anyio
async def test_upstream_unreachable_is_503(
    client: httpx.AsyncClient, upstream_handler: list[Handler]
) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    upstream_handler[0] = refused
    response = await client.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    assert_openai_error(response, 503, "api_error")


@pytest.mark.anyio
async def test_request_id_is_echoed_and_overhead_reported(
    client: httpx.AsyncClient, upstream_handler: list[Handler]
) -> None:
    seen: list[httpx.Request] = []

    def ok(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"id": "c1", "object": "chat.completion", "choices": [], "usage": {}}
        )

    upstream_handler[0] = ok
    response = await client.post(
        "/v1/chat/completions",
        json={**CHAT, "metadata": {"x": 1}, "fallbacks": ["other"], "foo": 1},
        headers={**AUTH, "x-request-id": "req-123"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-123"
    assert float(response.headers["x-litellm-overhead-duration-ms"]) >= 0
    forwarded = seen[0]
    assert forwarded.headers["authorization"] == "Bearer sk-up"
    assert forwarded.headers["x-request-id"] == "req-123"
    body = httpx.Response(200, content=forwarded.content).json()
    assert body["foo"] == 1  # unknown fields pass through
    assert "metadata" not in body and "fallbacks" not in body  # gateway-only fields do not


@pytest.mark.anyio
async def test_generated_request_id_when_absent(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/liveliness")
    assert response.status_code == 200
    assert len(response.headers["x-request-id"]) == 32
