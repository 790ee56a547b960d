"""Running the fake: in a thread, and shutting down while a `hang` request is in flight."""

from __future__ import annotations

import threading

import httpx
import pytest

from testing.fake_upstream import FakeUpstream, serve_in_thread


def test_thread_server_stops_even_with_a_hung_request() -> None:
    upstream = FakeUpstream()
    outcome: list[int | str] = []
    hung = threading.Event()

    def call_hang(base_url: str) -> None:
        try:
            response = httpx.post(
                f"{base_url}/v1/chat/completions",
                json={"model": "hang", "messages": [{"role": "user", "content": "x"}]},
                timeout=30,
            )
            outcome.append(response.status_code)
        except httpx.HTTPError as exc:
            outcome.append(type(exc).__name__)

    with serve_in_thread(upstream) as base_url:
        client = threading.Thread(target=call_hang, args=(base_url,))
        client.start()
        # Wait (bounded) until the fake has the request; it is recorded before the hang starts.
        for _ in range(1000):
            if upstream.recorder.requests(model="hang"):
                break
            hung.wait(0.01)
        else:
            pytest.fail("the hang request never reached the fake upstream")
        assert upstream.recorder.requests(model="hang")[0].status is None

    client.join(10)
    assert not client.is_alive()
    assert outcome  # the hung request ended (a 500 or a dropped connection), it did not hang on
