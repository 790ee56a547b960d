"""What goes wrong inside a Bedrock event stream becomes the gateway's error classes: an
exception message mid-stream, a frame whose CRC does not match, a body cut inside a frame, a
stream that never reports usage. The provider runs in process against the fake (faults chosen
by model name) or against frames built with the fake's encoder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from gateway import errors
from gateway.deployments import Deployment
from gateway.providers.base import ProviderCall
from gateway.providers.bedrock import BedrockProvider
from gateway.providers.bedrock_auth import AwsAuthority
from testing.fake_upstream import eventstream, serve_in_thread
from testing.fake_upstream.formats.bedrock_sigv4 import PERMANENT

pytestmark = pytest.mark.anyio
CHAT = {"messages": [{"role": "user", "content": "one two three"}]}


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    with serve_in_thread() as url:
        yield url


def call(model: str, api_base: str, **body: Any) -> ProviderCall:
    deployment = Deployment(
        id=model,
        model_name=model,
        provider="bedrock",
        model=model,
        api_base=api_base,
        extra_params={
            "aws_access_key_id": PERMANENT.access_key_id,
            "aws_secret_access_key": PERMANENT.secret_access_key,
            "aws_region_name": "us-east-1",
        },
    )
    return ProviderCall(deployment, {**CHAT, **body}, timeout=10, request_id="r1")


async def collect(provider: BedrockProvider, provider_call: ProviderCall) -> list[Any]:
    return [chunk async for chunk in provider.stream(provider_call)]


@pytest.fixture
async def provider() -> AsyncIterator[BedrockProvider]:
    async with httpx.AsyncClient() as http:
        yield BedrockProvider(http, AwsAuthority({}))


async def test_the_fake_s_faults(provider: BedrockProvider, fake_url: str) -> None:
    with pytest.raises(errors.BadGatewayError, match="bad event-stream frame"):
        await collect(provider, call("malformed", fake_url))
    with pytest.raises(errors.GatewayError) as dropped:
        await collect(provider, call("disconnect", fake_url))
    assert dropped.value.status_code in (502, 503)
    with pytest.raises(errors.RateLimitError, match="bedrock error"):
        await collect(provider, call("error-429", fake_url))
    with pytest.raises(errors.BadGatewayError, match="malformed upstream response"):
        await provider.chat(call("malformed", fake_url))


def frames_upstream(*frames: bytes) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=b"".join(frames),
            headers={"content-type": "application/vnd.amazon.eventstream"},
        )

    return httpx.MockTransport(answer)


def event(kind: str, payload: dict[str, Any]) -> bytes:
    return eventstream.event(kind, orjson.dumps(payload))


START = event("messageStart", {"role": "assistant"})
HELLO = event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hello"}})


@pytest.mark.parametrize(
    ("frames", "expected", "fragment"),
    [
        (
            [START, HELLO, eventstream.exception("throttlingException", b'{"message":"Too many tokens"}')],
            errors.RateLimitError,
            "Too many tokens",
        ),
        (
            [START, eventstream.exception("validationException", b'{"message":"The model returned the following errors: Input is too long for requested model."}')],
            errors.ContextWindowExceededError,
            "Input is too long",
        ),
        (
            [START, eventstream.exception("modelStreamErrorException", b'{"message":"model broke"}')],
            errors.BadGatewayError,
            "model broke",
        ),
        (
            [START, eventstream.encode_message({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"}, b"")],
            errors.UpstreamServerError,
            "boom",
        ),
        ([START, HELLO[:-5]], errors.BadGatewayError, "stream ended inside a frame"),
        ([START, HELLO, event("messageStop", {"stopReason": "end_turn"})], errors.BadGatewayError, "before its metadata"),
    ],
)  # fmt: skip
async def test_stream_failures_are_typed(
    frames: list[bytes], expected: type[errors.GatewayError], fragment: str
) -> None:
    async with httpx.AsyncClient(transport=frames_upstream(*frames)) as http:
        provider = BedrockProvider(http, AwsAuthority({}))
        with pytest.raises(expected) as raised:
            await collect(provider, call("m", "http://bedrock.test"))
    assert fragment in raised.value.message
    assert raised.value.provider == "bedrock"


async def test_embeddings_are_refused_clearly(provider: BedrockProvider) -> None:
    with pytest.raises(errors.BadRequestError, match="Converse"):
        await provider.embed(call("m", "http://bedrock.test"))
