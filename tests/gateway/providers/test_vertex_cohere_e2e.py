"""`vertex_ai/` and `cohere/` through a real gateway process, driven by the official `openai`
SDK: the fake upstream checks the bearer token google-auth minted from a throwaway service
account (its token endpoint is faked too, and checks the JWT's signature), the project and
location in the URL, and Cohere's key. Text, streaming, a tool-call round trip, spend rows
with a cost, bad credentials as an OpenAI-shaped 401, and bad settings as a clear 400."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
from openai import OpenAI

from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.gateway.providers.google_keys import PROJECT, new_service_account
from tests.support.processes import ServiceProcess

WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@dataclass
class Stack:
    upstream: ServiceProcess
    gateway: ServiceProcess

    def script(self, model: str, replies: list[dict[str, Any]]) -> None:
        response = httpx.post(
            f"{self.upstream.url}/__fake__/script",
            json={"model": model, "replies": replies},
            timeout=10,
        )
        response.raise_for_status()

    def received(self, fragment: str) -> list[dict[str, Any]]:
        entries = httpx.get(f"{self.upstream.url}/__fake__/requests", timeout=10).json()["data"]
        return [e for e in entries if fragment in e["path"]]

    def spend_rows(self, model_group: str, count: int) -> list[dict[str, Any]]:
        """Spend rows are written in batches off the request path: wait for them, bounded."""
        deadline = time.monotonic() + 20
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            response = httpx.get(
                f"{self.gateway.url}/spend/logs",
                params={"summarize": "false"},
                headers={"Authorization": f"Bearer {MASTER_KEY}"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            rows = [r for r in response.json() if r["model_group"] == model_group]
            if len(rows) >= count:
                return rows
            time.sleep(0.1)
        raise AssertionError(f"{len(rows)} spend rows for {model_group} after 20s, want {count}")


def _entry(name: str, model: str, **params: Any) -> dict[str, Any]:
    return {"model_name": name, "litellm_params": {"model": model, **params}}


@pytest.fixture(scope="module")
def stack(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("vertex-cohere")
    url = fake_upstream.url
    key = new_service_account(f"{url}/token")
    key.register(url)
    key_file = tmp / "vertex-key.json"
    key_file.write_bytes(orjson.dumps(key.info))
    forged = key.with_other_private_key()
    vertex = {"api_base": url, "vertex_credentials": "os.environ/VERTEX_KEY_FILE"}
    config = {
        "model_list": [
            _entry(
                "vertex-gemini",
                "vertex_ai/gemini-2.0-flash",
                vertex_project=PROJECT,
                vertex_location="europe-west4",
                **vertex,
            ),
            _entry(
                "vertex-claude",
                "vertex_ai/claude-sonnet-4@20250514",
                vertex_location="us-east5",
                **vertex,
            ),
            # no vertex_credentials: Application Default Credentials, as google-auth finds them
            _entry("vertex-adc", "vertex_ai/gemini-2.5-flash", api_base=url),
            _entry(
                "vertex-forged",
                "vertex_ai/gemini-2.0-flash",
                api_base=url,
                vertex_credentials="os.environ/VERTEX_FORGED_KEY",
            ),
            _entry(
                "vertex-bad-region",
                "vertex_ai/gemini-2.0-flash",
                vertex_location="moon base",
                **vertex,
            ),
            _entry(
                "vertex-broken-key",
                "vertex_ai/gemini-2.0-flash",
                api_base=url,
                vertex_credentials='{"type": "service_account"}',
            ),
            _entry(
                "cohere", "cohere/command-r-plus", api_base=url, api_key="os.environ/COHERE_KEY"
            ),
            # no api_key: COHERE_API_KEY, as LiteLLM reads it
            _entry("cohere-env-key", "cohere/command-r-08-2024", api_base=url),
            _entry("cohere-wrong-key", "cohere/command-r-plus", api_base=url, api_key="sk-wrong"),
        ],
        "general_settings": {"master_key": MASTER_KEY, "proxy_batch_write_at": 0.2},
    }
    gateway = start_gateway(
        config,
        tmp,
        service_log_dir,
        env={
            "VERTEX_KEY_FILE": str(key_file),
            "VERTEX_FORGED_KEY": orjson.dumps(forged.info).decode(),
            "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
            "COHERE_KEY": UPSTREAM_KEY,
            "COHERE_API_KEY": UPSTREAM_KEY,
        },
    )
    try:
        yield Stack(fake_upstream, gateway)
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{stack.gateway.url}/v1", api_key=MASTER_KEY, max_retries=0) as c:
        yield c


@pytest.mark.parametrize(
    ("model", "upstream_model", "path"),
    [
        (
            "vertex-gemini",
            "gemini-2.0-flash",
            f"/v1/projects/{PROJECT}/locations/europe-west4/publishers/google/models/"
            "gemini-2.0-flash:generateContent",
        ),
        (
            "vertex-claude",
            "claude-sonnet-4@20250514",
            f"/v1/projects/{PROJECT}/locations/us-east5/publishers/anthropic/models/"
            "claude-sonnet-4@20250514:rawPredict",
        ),
        (
            "vertex-adc",
            "gemini-2.5-flash",
            f"/v1/projects/{PROJECT}/locations/us-central1/publishers/google/models/"
            "gemini-2.5-flash:generateContent",
        ),
        ("cohere", "command-r-plus", "/v2/chat"),
        ("cohere-env-key", "command-r-08-2024", "/v2/chat"),
    ],
)
def test_text_reply_and_spend(
    model: str, upstream_model: str, path: str, client: OpenAI, stack: Stack
) -> None:
    stack.script(upstream_model, [{"text": f"Hello from {model}."}])
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        max_tokens=50,
    )
    assert reply.choices[0].message.content == f"Hello from {model}."
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.prompt_tokens > 0

    sent = stack.received(path)[-1]
    if path == "/v2/chat":
        assert sent["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}"
        assert sent["body"]["model"] == upstream_model
    else:
        assert sent["headers"]["authorization"].startswith("Bearer ya29.fake-")
        assert sent["status"] == 200
    rows = stack.spend_rows(model, 1)
    assert all(row["spend"] > 0 for row in rows), rows


@pytest.mark.parametrize("model", ["vertex-gemini", "vertex-claude", "cohere"])
def test_streaming_text(model: str, client: OpenAI) -> None:
    with client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "count"}],
        stream=True,
        stream_options={"include_usage": True},
    ) as stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text  # the fake's fixed reply, word by word
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


@pytest.mark.parametrize(
    ("model", "upstream_model"),
    [
        ("vertex-gemini", "gemini-2.0-flash"),
        ("vertex-claude", "claude-sonnet-4@20250514"),
        ("cohere", "command-r-plus"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_tool_call_round_trip(
    model: str, upstream_model: str, stream: bool, client: OpenAI, stack: Stack
) -> None:
    stack.script(
        upstream_model,
        [
            {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
            {"text": "It is 21 degrees in Paris."},
        ],
    )
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        with client.chat.completions.create(
            model=model, messages=messages, tools=[WEATHER], stream=True
        ) as events:
            chunks = list(events)
        pieces = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
        call_id = next(p.id for p in pieces if p.id)
        name = next(p.function.name for p in pieces if p.function and p.function.name)
        arguments = "".join(p.function.arguments or "" for p in pieces if p.function)
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    else:
        first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
        assert first.choices[0].finish_reason == "tool_calls"
        call = (first.choices[0].message.tool_calls or [])[0]
        call_id, name, arguments = call.id, call.function.name, call.function.arguments  # type: ignore[union-attr]
    assert name == "get_weather"
    assert orjson.loads(arguments) == {"city": "Paris"}

    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": '{"temp_c": 21}'},
    ]
    final = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
    assert final.choices[0].message.content == "It is 21 degrees in Paris."
    assert final.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", ["vertex-forged", "cohere-wrong-key"])
def test_bad_credentials_are_an_openai_shaped_401(model: str, client: OpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 401
    body: Any = caught.value.body
    assert body["type"] == "authentication_error"
    assert body["message"]


@pytest.mark.parametrize(
    ("model", "param", "fragment"),
    [
        ("vertex-bad-region", "vertex_location", "not a Google Cloud region"),
        ("vertex-broken-key", "vertex_credentials", "cannot load Google credentials"),
    ],
)
def test_bad_settings_are_a_clear_error_not_a_500(
    model: str, param: str, fragment: str, client: OpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    body: Any = caught.value.body
    assert body["code"] == "invalid_vertex_config", body
    assert body["param"] == param
    assert fragment in body["message"]
