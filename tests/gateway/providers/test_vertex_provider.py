"""The `vertex_ai/` provider in process against the fake upstream (served on loopback): the
project/location URL, the bearer token google-auth minted, Gemini and Claude bodies, and what
each failure becomes. The same paths through a gateway process: test_vertex_cohere_e2e.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway import errors
from gateway.deployments import Deployment
from gateway.providers.base import ProviderCall
from gateway.providers.vertex import VertexProvider
from gateway.providers.vertex_auth import VertexConfigError
from gateway.providers.vertex_target import resolve_target
from testing.fake_upstream import FakeUpstream, ScriptedReply, ScriptedToolCall, serve_in_thread
from tests.gateway.providers.google_keys import PROJECT, ServiceAccountKey, new_service_account

pytestmark = pytest.mark.anyio


def _deployment(model: str, **params: Any) -> Deployment:
    api_base = params.pop("api_base", None)
    return Deployment(
        id=model,
        model_name=model,
        provider="vertex_ai",
        model=model,
        api_base=api_base,
        extra_params=params,
    )


@pytest.mark.parametrize(
    ("params", "environ", "credentials_project", "expected"),
    [
        (
            {"vertex_project": "p1", "vertex_location": "europe-west4"},
            {},
            "key-project",
            ("p1", "europe-west4", "https://europe-west4-aiplatform.googleapis.com"),
        ),
        (
            {},
            {"VERTEXAI_PROJECT": "env-p", "VERTEXAI_LOCATION": "us-east5"},
            "key-project",
            ("env-p", "us-east5", "https://us-east5-aiplatform.googleapis.com"),
        ),
        (
            {},
            {},
            "key-project",
            ("key-project", "us-central1", "https://us-central1-aiplatform.googleapis.com"),
        ),
        (
            {"vertex_location": "global"},
            {},
            "kp",
            ("kp", "global", "https://aiplatform.googleapis.com"),
        ),
        ({"api_base": "http://proxy:8080"}, {}, "kp", ("kp", "us-central1", "http://proxy:8080")),
    ],
)
def test_target_as_litellm_resolves_it(
    params: dict[str, Any],
    environ: dict[str, str],
    credentials_project: str,
    expected: tuple[str, str, str],
) -> None:
    target = resolve_target(_deployment("gemini-2.0-flash", **params), credentials_project, environ)
    assert (target.project, target.location, target.base) == expected
    assert target.url("google", "gemini-2.0-flash", "generateContent") == (
        f"{expected[2]}/v1/projects/{expected[0]}/locations/{expected[1]}"
        "/publishers/google/models/gemini-2.0-flash:generateContent"
    )


@pytest.mark.parametrize(
    ("params", "credentials_project", "fragment"),
    [
        ({}, None, "needs a project"),
        ({"vertex_project": "../../evil"}, None, "not a Google Cloud project id"),
        (
            {"vertex_project": "p", "vertex_location": "us central"},
            None,
            "not a Google Cloud region",
        ),
    ],
)
def test_bad_target_settings_are_clear_errors(
    params: dict[str, Any], credentials_project: str | None, fragment: str
) -> None:
    with pytest.raises(VertexConfigError, match=fragment) as caught:
        resolve_target(_deployment("gemini-2.0-flash", **params), credentials_project, {})
    assert caught.value.status_code == 400


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeUpstream, str]]:
    upstream = FakeUpstream()
    with serve_in_thread(upstream) as url:
        yield upstream, url


@pytest.fixture(scope="module")
def key(fake: tuple[FakeUpstream, str]) -> ServiceAccountKey:
    _, url = fake
    account = new_service_account(f"{url}/token")
    account.register(url)
    return account


@pytest.fixture
async def provider() -> AsyncIterator[VertexProvider]:
    async with httpx.AsyncClient() as http:
        yield VertexProvider(http)


def _call(deployment: Deployment, body: dict[str, Any]) -> ProviderCall:
    return ProviderCall(deployment=deployment, body=body, timeout=10, request_id="req-1")


def _vertex(model: str, url: str, key: ServiceAccountKey, **params: Any) -> Deployment:
    settings = {"vertex_location": "us-central1", **params}
    return _deployment(model, api_base=url, vertex_credentials=key.info, **settings)


HELLO = {"messages": [{"role": "user", "content": "hello vertex"}], "max_tokens": 20}


async def test_gemini_chat_and_stream(
    fake: tuple[FakeUpstream, str], key: ServiceAccountKey, provider: VertexProvider
) -> None:
    upstream, url = fake
    deployment = _vertex("echo", url, key)
    reply = await provider.chat(_call(deployment, HELLO))
    assert reply["choices"][0]["message"]["content"] == "hello vertex"
    chunks = [c async for c in provider.stream(_call(deployment, {**HELLO, "stream": True}))]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "hello vertex"
    assert chunks[-1]["usage"]["total_tokens"] > 0

    seen = [r for r in upstream.recorder.requests() if "/publishers/google/models/echo" in r.path]
    assert [r.path.rsplit(":", 1)[1] for r in seen[-2:]] == [
        "generateContent",
        "streamGenerateContent",
    ]
    assert seen[-1].path.startswith(f"/v1/projects/{PROJECT}/locations/us-central1/")
    assert seen[-1].query == "alt=sse"
    assert seen[-1].headers["authorization"].startswith("Bearer ya29.fake-")
    assert seen[-1].body["contents"] == [{"role": "user", "parts": [{"text": "hello vertex"}]}]


async def test_claude_chat_and_stream(
    fake: tuple[FakeUpstream, str], key: ServiceAccountKey, provider: VertexProvider
) -> None:
    upstream, url = fake
    deployment = _vertex("claude-sonnet-4@20250514", url, key, vertex_location="us-east5")
    upstream.scripts.add("claude-sonnet-4@20250514", [ScriptedReply(text="Hi from Claude.")])
    reply = await provider.chat(_call(deployment, HELLO))
    assert reply["choices"][0]["message"]["content"] == "Hi from Claude."
    tools = [
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
    ]
    call = ScriptedToolCall("get_time", '{"zone": "UTC"}')
    upstream.scripts.add("claude-sonnet-4@20250514", [ScriptedReply(tool_calls=(call,))])
    body = {**HELLO, "stream": True, "tools": tools}
    chunks = [c async for c in provider.stream(_call(deployment, body))]
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finish[-1] == "tool_calls"

    seen = [r for r in upstream.recorder.requests() if "/publishers/anthropic/" in r.path]
    assert seen[-2].path == (
        f"/v1/projects/{PROJECT}/locations/us-east5/publishers/anthropic/models/"
        "claude-sonnet-4@20250514:rawPredict"
    )
    assert seen[-1].path.endswith(":streamRawPredict")
    assert seen[-1].body["anthropic_version"] == "vertex-2023-10-16"
    assert "model" not in seen[-1].body and seen[-1].body["stream"] is True


async def test_wrong_project_is_permission_denied(
    fake: tuple[FakeUpstream, str], key: ServiceAccountKey, provider: VertexProvider
) -> None:
    _, url = fake
    deployment = _vertex("echo", url, key, vertex_project="someone-elses-project")
    with pytest.raises(errors.PermissionDeniedError, match=r"aiplatform\.endpoints\.predict"):
        await provider.chat(_call(deployment, HELLO))


async def test_a_token_the_upstream_refuses_is_dropped_for_the_next_request(
    fake: tuple[FakeUpstream, str], key: ServiceAccountKey, provider: VertexProvider
) -> None:
    _, url = fake
    deployment = _vertex("echo", url, key)
    await provider.chat(_call(deployment, HELLO))
    account = await provider.tokens.account(key.info)
    account.credentials.token = "ya29.revoked"  # as if Google revoked it early

    with pytest.raises(errors.AuthenticationError):
        await provider.chat(_call(deployment, HELLO))
    reply = await provider.chat(_call(deployment, HELLO))

    assert reply["choices"][0]["message"]["content"] == "hello vertex"


async def test_embeddings_are_refused_clearly(provider: VertexProvider) -> None:
    with pytest.raises(errors.BadRequestError, match="not supported"):
        await provider.embed(_call(_deployment("text-embedding-005"), {"input": "x"}))
