"""Cache keys, controls, the local LRU, and stream assembly/replay, in process."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.cache import ChunkAssembler, cache_key, chunks_from_completion, parse_controls
from gateway.cache.backends.local import LocalBackend
from gateway.cache.response_cache import ResponseCache
from gateway.cache.settings import CacheParams
from gateway.errors import BadRequestError

BODY: dict[str, Any] = {
    "model": "gpt",
    "messages": [{"role": "user", "content": "hi"}],
    "temperature": 0.2,
}


def test_key_ignores_transport_fields_and_key_order() -> None:
    base = cache_key(None, "chat", "gpt", BODY)
    noisy = {
        "stream": True,
        "user": "alice",
        "metadata": {"x": 1},
        "cache": {"ttl": 5},
        **dict(reversed(list(BODY.items()))),
    }
    assert cache_key(None, "chat", "gpt", noisy) == base


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.3},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"messages": [{"role": "user", "content": "hi!"}]},
        {"seed": 1},
    ],
)
def test_key_changes_with_output_parameters(change: dict[str, Any]) -> None:
    assert cache_key(None, "chat", "gpt", {**BODY, **change}) != cache_key(
        None, "chat", "gpt", BODY
    )


def test_key_separates_groups_call_types_and_namespaces() -> None:
    base = cache_key(None, "chat", "gpt", BODY)
    assert cache_key(None, "chat", "other", BODY) != base
    assert cache_key(None, "completion", "gpt", BODY) != base
    assert cache_key("team-a", "chat", "gpt", BODY) == f"team-a:{base}"


def test_controls_in_litellm_shape() -> None:
    controls = parse_controls(
        {"no-cache": True, "no-store": False, "ttl": 30, "s-maxage": 5, "namespace": "n"}
    )
    assert (controls.no_cache, controls.no_store, controls.ttl, controls.s_maxage) == (
        True,
        False,
        30.0,
        5.0,
    )
    assert controls.namespace == "n"


@pytest.mark.parametrize("raw", ["yes", {"ttl": -1}, {"no-cache": "true"}, {"namespace": ""}])
def test_bad_controls_are_a_clear_400(raw: Any) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_controls(raw)
    assert "cache" in caught.value.message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.anyio
async def test_local_backend_is_a_bounded_lru_with_ttl() -> None:
    clock = Clock()
    backend = LocalBackend(max_entries=2, clock=clock)
    await backend.set("a", b"1", None)
    await backend.set("b", b"2", 10)
    assert await backend.get("a") == b"1"  # touch: "b" is now least recently used
    await backend.set("c", b"3", None)
    assert await backend.get("b") is None and len(backend) == 2
    await backend.set("d", b"4", 10)
    clock.now += 9.9
    assert await backend.get("d") == b"4"
    clock.now += 0.2
    assert await backend.get("d") is None


@pytest.mark.anyio
async def test_response_cache_ttl_and_s_maxage_with_injected_clock() -> None:
    clock = Clock()
    cache = ResponseCache(
        backend=LocalBackend(clock=clock), params=CacheParams(ttl=60), clock=clock
    )
    await cache.put("k", {"answer": 1}, None)
    clock.now += 30
    assert await cache.get("k") == {"answer": 1}
    assert await cache.get("k", max_age=10) is None  # older than the request accepts
    await cache.put("short", {"answer": 2}, 5)
    clock.now += 6
    assert await cache.get("short") is None
    clock.now += 31
    assert await cache.get("k") is None


def test_stream_assembly_round_trips_text_and_tool_calls() -> None:
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get", "arguments": '{"a": 1}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    assembler = ChunkAssembler()
    for chunk in chunks_from_completion(completion):
        assembler.add(chunk)
    assert assembler.completion() == completion


def test_cut_short_stream_is_not_cacheable() -> None:
    assembler = ChunkAssembler()
    assembler.add({"id": "x", "choices": [{"index": 0, "delta": {"content": "par"}}]})
    assert assembler.completion() is None


class CountingBackend(LocalBackend):
    gets: int = 0

    async def get(self, key: str) -> bytes | None:
        self.gets += 1
        return await super().get(key)


def record(call_type: Any, *, stream: bool = False, body: dict[str, Any] | None = None) -> Any:
    from gateway.auth import Principal
    from gateway.hooks import CallRecord

    return CallRecord(
        request_id="r",
        principal=Principal(kind="open", is_admin=True),
        call_type=call_type,
        model_group="gpt",
        body=body or BODY,
        stream=stream,
    )


@pytest.mark.anyio
async def test_requests_that_are_not_cacheable_never_reach_the_backend() -> None:
    backend = CountingBackend()
    cache = ResponseCache(
        backend=backend,
        params=CacheParams(supported_call_types=["acompletion", "atext_completion"]),
    )
    assert (await cache.lookup(record("embedding"))).key is None  # not a supported call type
    assert (await cache.lookup(record("completion", stream=True))).key is None  # no replay
    no_cache = {**BODY, "cache": {"no-cache": True}}
    assert (await cache.lookup(record("chat", body=no_cache))).response is None
    assert backend.gets == 0
    await cache.lookup(record("chat"))
    assert backend.gets == 1


@pytest.mark.anyio
async def test_disabled_cache_does_nothing() -> None:
    lookup = await ResponseCache().lookup(record("chat"))
    assert lookup.key is None and lookup.response is None
    await lookup.store({"answer": 1})  # a no-op, not an error
