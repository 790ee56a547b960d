"""Each cache backend through a real gateway process, with the official openai SDK."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import openai
import pytest

from tests.gateway.cache.conftest import CachedGateway
from tests.gateway.conftest import MASTER_KEY


@pytest.fixture
def client(cached_gateway: CachedGateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=f"{cached_gateway.gateway.url}/v1", api_key=MASTER_KEY, max_retries=0
    ) as c:
        yield c


def ask(marker: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"cache test {marker}"}]


def new_marker() -> str:
    return uuid.uuid4().hex


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def test_second_identical_request_is_a_hit(
    client: openai.OpenAI, cached_gateway: CachedGateway
) -> None:
    marker = new_marker()
    first = client.chat.completions.with_raw_response.create(
        model="gpt-echo",
        messages=ask(marker),
        temperature=0,  # type: ignore[arg-type]
    )
    assert first.headers["x-toolrelay-cache"] == "miss"
    assert "x-litellm-cache-key" not in first.headers
    # Same request, other field order and a different end user: still the same entry.
    second = client.chat.completions.with_raw_response.create(
        messages=ask(marker),
        model="gpt-echo",
        temperature=0,
        user="someone-else",  # type: ignore[arg-type]
    )
    assert second.headers["x-toolrelay-cache"] == "hit"
    assert second.headers["x-litellm-cache-key"]
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert marker in (second.parse().choices[0].message.content or "")
    assert cached_gateway.upstream_hits(marker) == 1


def test_no_cache_bypasses_the_lookup_but_stores(
    client: openai.OpenAI, cached_gateway: CachedGateway
) -> None:
    marker = new_marker()
    client.chat.completions.create(model="gpt-echo", messages=ask(marker))  # type: ignore[arg-type]
    fresh = client.chat.completions.with_raw_response.create(
        model="gpt-echo",
        messages=ask(marker),  # type: ignore[arg-type]
        extra_body={"cache": {"no-cache": True}},
    )
    assert fresh.headers["x-toolrelay-cache"] == "miss"
    assert cached_gateway.upstream_hits(marker) == 2


def test_no_store_leaves_nothing_behind(
    client: openai.OpenAI, cached_gateway: CachedGateway
) -> None:
    marker = new_marker()
    for _ in range(2):
        client.chat.completions.create(
            model="gpt-echo",
            messages=ask(marker),  # type: ignore[arg-type]
            extra_body={"cache": {"no-store": True}},
        )
    assert cached_gateway.upstream_hits(marker) == 2


def test_stream_from_cache_is_a_valid_stream(
    client: openai.OpenAI, cached_gateway: CachedGateway
) -> None:
    marker = new_marker()
    plain = client.chat.completions.create(model="gpt-echo", messages=ask(marker))  # type: ignore[arg-type]
    with client.chat.completions.with_streaming_response.create(
        model="gpt-echo",
        messages=ask(marker),  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    ) as raw:
        assert raw.headers["x-toolrelay-cache"] == "hit"
        chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert cached_gateway.upstream_hits(marker) == 1


def test_streamed_miss_is_cached_from_its_chunks(
    client: openai.OpenAI, cached_gateway: CachedGateway
) -> None:
    marker = new_marker()
    stream = client.chat.completions.create(
        model="gpt-tools",
        messages=ask(marker),
        tools=TOOLS,
        stream=True,  # type: ignore[arg-type]
    )
    streamed = list(stream)
    calls = [tc for c in streamed if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls, "the fake's tool-call model streams tool calls"
    again = client.chat.completions.with_raw_response.create(
        model="gpt-tools",
        messages=ask(marker),
        tools=TOOLS,  # type: ignore[arg-type]
    )
    assert again.headers["x-toolrelay-cache"] == "hit"
    message = again.parse().choices[0].message
    assert message.tool_calls and message.tool_calls[0].function.name == calls[0].function.name  # type: ignore[union-attr]
    assert cached_gateway.upstream_hits(marker) == 1


def test_streamed_hit_without_usage_request_has_no_usage_chunk(
    client: openai.OpenAI, cached_gateway: CachedGateway
) -> None:
    marker = new_marker()
    client.chat.completions.create(model="gpt-echo", messages=ask(marker))  # type: ignore[arg-type]
    chunks = list(
        client.chat.completions.create(model="gpt-echo", messages=ask(marker), stream=True)  # type: ignore[arg-type]
    )
    assert all(c.usage is None for c in chunks) and all(c.choices for c in chunks)


def test_ttl_expiry(client: openai.OpenAI, cached_gateway: CachedGateway) -> None:
    marker = new_marker()
    client.chat.completions.create(
        model="gpt-echo",
        messages=ask(marker),  # type: ignore[arg-type]
        extra_body={"cache": {"ttl": 1}},
    )
    # Wait (bounded) for the entry to expire: hits never reach the upstream, the first miss does.
    deadline = time.monotonic() + 15
    while cached_gateway.upstream_hits(marker) == 1:
        assert time.monotonic() < deadline, "cache entry outlived its 1 s ttl by far"
        client.chat.completions.create(
            model="gpt-echo",
            messages=ask(marker),  # type: ignore[arg-type]
            extra_body={"cache": {"no-store": True}},
        )
        time.sleep(0.1)  # poll interval, not a wait for an outcome
    assert cached_gateway.upstream_hits(marker) == 2


def test_bad_cache_controls_are_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-echo",
            messages=ask(new_marker()),  # type: ignore[arg-type]
            extra_body={"cache": {"ttl": "soon"}},
        )
    assert "cache.ttl" in str(caught.value)
