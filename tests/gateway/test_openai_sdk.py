"""The official `openai` SDK against a gateway process in front of the fake upstream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import openai
import pytest

from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.support.processes import ServiceProcess


# A LiteLLM config as users write it: os.environ/ keys, a master key, request defaults.
def litellm_config(upstream_url: str) -> dict[str, object]:
    def entry(name: str, model: str, **extra: object) -> dict[str, object]:
        params = {
            "model": f"openai/{model}",
            "api_base": f"{upstream_url}/v1",
            "api_key": "os.environ/FAKE_UPSTREAM_KEY",
        }
        return {"model_name": name, "litellm_params": {**params, **extra}}

    return {
        "model_list": [
            entry("gpt-fixed", "fixed"),
            entry("gpt-echo", "echo"),
            entry("gpt-tools", "tool-call"),
            entry("gpt-slow", "slow-stream-600000"),
            entry("gpt-slow-short", "slow-stream-20"),
            entry("gpt-latency", "latency-5000", timeout=0.5),
            entry("embedder", "embed", model_info={"mode": "embedding"}),
            *[entry(f"err-{s}", f"error-{s}") for s in (400, 401, 403, 429, 500, 503)],
            entry("err-context", "context-window"),
            entry("err-malformed", "malformed"),
            entry("err-disconnect", "disconnect"),
            entry("wrong-upstream-key", "fixed", api_key="sk-wrong"),
        ],
        "general_settings": {"master_key": "os.environ/MY_MASTER_KEY"},
    }


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    service = start_gateway(
        litellm_config(fake_upstream.url),
        tmp_path_factory.mktemp("gw"),
        service_log_dir,
        env={"FAKE_UPSTREAM_KEY": UPSTREAM_KEY, "MY_MASTER_KEY": MASTER_KEY},
    )
    yield service
    service.stop()


@pytest.fixture
def client(gateway: ServiceProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(gateway: ServiceProcess) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0)


USER = [{"role": "user", "content": "ping from the test"}]


def test_chat_sync(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="gpt-fixed", messages=USER)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "Hello from the fake upstream."
    assert reply.usage is not None and reply.usage.prompt_tokens > 0


def test_chat_echo_reaches_upstream_unchanged(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="gpt-echo", messages=USER, temperature=0.3)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "ping from the test"


def test_chat_stream_sync(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt-slow-short", messages=USER, stream=True)  # type: ignore[arg-type]
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the fake upstream."
    assert len(chunks) > 2
    assert all(c.usage is None for c in chunks)  # not asked for


def test_stream_usage_when_asked(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-fixed",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},  # type: ignore[arg-type]
    )
    chunks = list(stream)
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


@pytest.mark.anyio
async def test_chat_async_and_stream(aclient: openai.AsyncOpenAI) -> None:
    async with aclient:
        reply = await aclient.chat.completions.create(model="gpt-fixed", messages=USER)  # type: ignore[arg-type]
        assert reply.choices[0].message.content == "Hello from the fake upstream."
        stream = await aclient.chat.completions.create(model="gpt-echo", messages=USER, stream=True)  # type: ignore[arg-type]
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == "ping from the test"


@pytest.mark.anyio
async def test_first_chunk_arrives_before_upstream_finishes(aclient: openai.AsyncOpenAI) -> None:
    # The upstream sends its first chunk at once and the next only after ten minutes: a
    # gateway that buffered the stream could never deliver the first one within the bound.
    async with aclient:
        with anyio.fail_after(15):
            stream = await aclient.chat.completions.create(
                model="gpt-slow", messages=USER, stream=True
            )  # type: ignore[arg-type]
            first = await anext(aiter(stream))
        assert first.choices[0].delta.role == "assistant" or first.choices[0].delta.content
        await stream.close()


def test_tool_calls_pass_through(client: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    reply = client.chat.completions.create(model="gpt-tools", messages=USER, tools=tools)  # type: ignore[arg-type]
    assert reply.choices[0].finish_reason == "tool_calls"
    calls = reply.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "lookup"  # type: ignore[union-attr]


def test_completions(client: openai.OpenAI) -> None:
    reply = client.completions.create(model="gpt-echo", prompt="complete me")
    assert reply.choices[0].text == "complete me"
    stream = client.completions.create(model="gpt-fixed", prompt="x", stream=True)
    assert (
        "".join(c.choices[0].text for c in stream if c.choices) == "Hello from the fake upstream."
    )


def test_embeddings(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="embedder", input=["a", "b"])
    assert len(result.data) == 2
    assert len(result.data[0].embedding) > 0
    assert result.data[0].embedding != result.data[1].embedding


def test_models(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "gpt-fixed" in ids and "embedder" in ids
    assert client.models.retrieve("gpt-echo").id == "gpt-echo"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_paths_without_v1(gateway: ServiceProcess) -> None:
    response = httpx.post(
        f"{gateway.url}/chat/completions",
        json={"model": "gpt-fixed", "messages": USER},
        headers={"authorization": f"Bearer {MASTER_KEY}"},
    )
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Hello from the fake upstream."


@pytest.mark.parametrize(
    ("model", "exception", "status"),
    [
        ("err-400", openai.BadRequestError, 400),
        ("err-401", openai.AuthenticationError, 401),
        ("err-403", openai.PermissionDeniedError, 403),
        ("err-429", openai.RateLimitError, 429),
        ("err-500", openai.InternalServerError, 500),
        ("err-503", openai.InternalServerError, 503),
        ("err-context", openai.BadRequestError, 400),
        ("err-malformed", openai.InternalServerError, 502),
        ("wrong-upstream-key", openai.AuthenticationError, 401),
    ],
)
def test_upstream_errors_keep_their_class(
    client: openai.OpenAI, model: str, exception: type[openai.APIStatusError], status: int
) -> None:
    with pytest.raises(exception) as info:
        client.chat.completions.create(model=model, messages=USER)  # type: ignore[arg-type]
    assert info.value.status_code == status
    body = info.value.response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"].startswith("openai error: ")


def test_rate_limit_keeps_retry_after(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="err-429", messages=USER)  # type: ignore[arg-type]
    assert info.value.response.headers["retry-after"] == "1"
    assert info.value.response.json()["error"]["type"] == "rate_limit_error"


def test_context_window_error_code(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="err-context", messages=USER)  # type: ignore[arg-type]
    assert info.value.response.json()["error"]["code"] == "context_length_exceeded"


def test_upstream_timeout_is_408(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="gpt-latency", messages=USER)  # type: ignore[arg-type]
    assert info.value.status_code == 408
    assert info.value.response.json()["error"]["type"] == "timeout"


def test_error_before_first_chunk_is_a_plain_error_response(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="err-429", messages=USER, stream=True)  # type: ignore[arg-type]


def test_disconnect_mid_stream_ends_with_error_event(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="err-disconnect", messages=USER, stream=True)  # type: ignore[arg-type]
    with pytest.raises(openai.APIError) as info:
        for _ in stream:
            pass
    assert "upstream" in info.value.message


def test_no_key_and_wrong_key(gateway: ServiceProcess) -> None:
    with (
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="sk-wrong", max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError),
    ):
        bad.chat.completions.create(model="gpt-fixed", messages=USER)  # type: ignore[arg-type]


def test_request_id_and_overhead_headers(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-fixed",
        messages=USER,
        extra_headers={"x-request-id": "trace-42"},  # type: ignore[arg-type]
    )
    assert raw.headers["x-request-id"] == "trace-42"
    assert float(raw.headers["x-litellm-overhead-duration-ms"]) >= 0


def test_upstream_received_the_master_config_key_not_the_client_key(
    client: openai.OpenAI, fake_upstream: ServiceProcess
) -> None:
    client.chat.completions.create(
        model="gpt-fixed", messages=USER, extra_headers={"x-request-id": "key-check"}
    )  # type: ignore[arg-type]
    recorded = httpx.get(f"{fake_upstream.url}/__fake__/requests").json()
    mine = [r for r in recorded["data"] if r["headers"].get("x-request-id") == "key-check"]
    assert mine and mine[0]["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert mine[0]["body"]["model"] == "fixed"


def test_health_endpoints(gateway: ServiceProcess) -> None:
    assert httpx.get(f"{gateway.url}/health/liveliness").json() == "I'm alive!"
    ready = httpx.get(f"{gateway.url}/health/readiness").json()
    assert ready["status"] == "healthy" and "version" in ready
    assert httpx.get(f"{gateway.url}/health").status_code == 401
    health = httpx.get(
        f"{gateway.url}/health", headers={"authorization": f"Bearer {MASTER_KEY}"}, timeout=30
    ).json()
    healthy = {e["model_name"] for e in health["healthy_endpoints"]}
    unhealthy = {e["model_name"] for e in health["unhealthy_endpoints"]}
    assert "gpt-fixed" in healthy and "embedder" in healthy
    assert "err-500" in unhealthy
    assert UPSTREAM_KEY not in str(health)
