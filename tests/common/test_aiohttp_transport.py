"""The aiohttp transport's per-call header stamp, against a real server on loopback (the
fake upstream records what it received): what the stamp writes goes out with the request's
own headers, written in the caller's context; a stamp that writes nothing adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar

import httpx
import pytest

from common.aiohttp_transport import AiohttpTransport, DirectClient, HeaderStamp
from testing.fake_upstream import FakeUpstream, serve_in_thread

pytestmark = pytest.mark.anyio

# What the caller's context holds when it sends (as the current span does for the trace stamp)
CALLER_SAYS: ContextVar[str | None] = ContextVar("caller_says", default=None)


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[FakeUpstream, str]]:
    fake = FakeUpstream()
    with serve_in_thread(fake) as url:
        yield fake, url


def _stamp_from_context(headers: dict[str, str]) -> None:
    said = CALLER_SAYS.get()
    if said is not None:
        headers["traceparent"] = said


async def _chat(url: str, model: str, stamp: HeaderStamp) -> httpx.Response:
    transport = AiohttpTransport(max_connections=4, stamp_headers=stamp)
    client = DirectClient(transport, httpx.Timeout(10))
    try:
        return await client.post(
            f"{url}/v1/chat/completions",
            headers={"authorization": "Bearer k", "x-request-id": model},
            json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        )
    finally:
        await client.aclose()


async def test_stamped_headers_go_out_with_the_requests_own(
    upstream: tuple[FakeUpstream, str],
) -> None:
    fake, url = upstream
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    token = CALLER_SAYS.set(parent)
    try:
        answer = await _chat(url, "stamped", _stamp_from_context)
    finally:
        CALLER_SAYS.reset(token)
    assert answer.status_code == 200
    (received,) = fake.recorder.requests(model="stamped")
    assert received.headers["traceparent"] == parent
    assert received.headers["authorization"] == "Bearer k"
    assert received.headers["x-request-id"] == "stamped"


async def test_a_stamp_that_writes_nothing_adds_no_header(
    upstream: tuple[FakeUpstream, str],
) -> None:
    fake, url = upstream
    answer = await _chat(url, "unstamped", _stamp_from_context)  # the context says nothing
    assert answer.status_code == 200
    (received,) = fake.recorder.requests(model="unstamped")
    assert "traceparent" not in received.headers
    assert received.headers["x-request-id"] == "unstamped"
