"""Usage read off pass-through bodies split at arbitrary points, and where each route goes."""

from __future__ import annotations

import pytest

from gateway.deployments import Deployment
from gateway.passthrough.targets import PROVIDERS, resolve
from gateway.passthrough.usage import UsageScanner

ANTHROPIC_STREAM = (
    b'event: message_start\ndata: {"type":"message_start","message":{"usage":'
    b'{"input_tokens":12,"cache_read_input_tokens":3,"output_tokens":1}}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"hi"}}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":7}}\n\n'
)
OPENAI_STREAM = (
    b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n'
    b"data: [DONE]\n\n"
)
RESPONSES_STREAM = (
    b'event: response.completed\ndata: {"type":"response.completed","response":{"usage":'
    b'{"input_tokens":4,"output_tokens":6,"total_tokens":10,'
    b'"input_tokens_details":{"cached_tokens":1}}}}\n\n'
)
GEMINI_JSON = (
    b'[{"candidates":[],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":1}},'
    b'{"candidates":[],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":9,'
    b'"thoughtsTokenCount":1}}]'
)


@pytest.mark.parametrize(
    ("body", "event_stream", "expected"),
    [
        (ANTHROPIC_STREAM, True, (15, 7, 3)),
        (OPENAI_STREAM, True, (5, 2, 0)),
        (RESPONSES_STREAM, True, (4, 6, 1)),
        (GEMINI_JSON, False, (2, 10, 0)),
    ],
)
@pytest.mark.parametrize("piece", [1, 7, 10_000])
def test_usage_whatever_the_chunking(
    body: bytes, event_stream: bool, expected: tuple[int, int, int], piece: int
) -> None:
    scanner = UsageScanner(event_stream=event_stream)
    for start in range(0, len(body), piece):
        scanner.feed(body[start : start + piece])
    scanner.finish()
    assert (scanner.prompt_tokens, scanner.completion_tokens, scanner.cached_tokens) == expected


def test_targets_prefer_the_environment_then_model_list() -> None:
    configured = [
        Deployment(
            id="d",
            model_name="m",
            provider="openai",
            model="m",
            api_base="http://x/v1",
            api_key="k",
        )
    ]
    target = resolve(PROVIDERS["openai"], {}, configured)
    assert (target.base, target.api_key) == ("http://x/v1", "k")
    assert target.url("v1/chat/completions") == "http://x/v1/chat/completions"
    env = {"OPENAI_API_KEY": "env-key", "OPENAI_API_BASE": "https://proxy.example"}
    target = resolve(PROVIDERS["openai"], env, configured)
    assert target.url("v1/models") == "https://proxy.example/v1/models"
    assert target.api_key == "env-key"
    gemini = resolve(PROVIDERS["gemini"], {}, configured)
    assert gemini.base == "https://generativelanguage.googleapis.com" and gemini.api_key is None
