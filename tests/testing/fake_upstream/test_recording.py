"""The request log: what was received, filtering by model, clearing, and its bound."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openai import OpenAI

from testing.fake_upstream import FakeUpstream, ScriptedReply, serve_in_thread


@pytest.fixture(scope="module")
def upstream_in_thread() -> Iterator[tuple[FakeUpstream, str]]:
    upstream = FakeUpstream()
    with serve_in_thread(upstream) as base_url:
        yield upstream, base_url


def test_requests_are_recorded_with_headers_and_body(client: OpenAI, control: httpx.Client) -> None:
    model = "recorded-model"
    client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "remember me"}],
        temperature=0.5,
        extra_headers={"x-trace": "abc"},
    )

    records = control.get("/__fake__/requests", params={"model": model}).json()["data"]

    assert len(records) == 1
    record = records[0]
    assert record["method"] == "POST"
    assert record["path"] == "/v1/chat/completions"
    assert record["headers"]["authorization"] == "Bearer test"
    assert record["headers"]["x-trace"] == "abc"
    assert record["body"]["messages"] == [{"role": "user", "content": "remember me"}]
    assert record["body"]["temperature"] == 0.5
    assert isinstance(record["received_at"], float)
    assert record["status"] == 200
    assert record["completed"] is True


def test_control_routes_are_not_recorded_and_delete_clears(
    client: OpenAI, control: httpx.Client
) -> None:
    client.models.list()
    control.get("/health")
    before = control.get("/__fake__/requests").json()["data"]

    assert control.delete("/__fake__/requests").status_code == 200
    after = control.get("/__fake__/requests").json()["data"]

    assert before
    assert not [r for r in before if r["path"].startswith(("/__fake__", "/health"))]
    assert after == []


def test_ring_buffer_keeps_only_the_newest_requests() -> None:
    upstream = FakeUpstream(record_limit=3)
    with serve_in_thread(upstream) as base_url:
        sdk = OpenAI(base_url=f"{base_url}/v1", api_key="k", max_retries=0)
        with sdk:
            for n in range(5):
                sdk.chat.completions.create(
                    model=f"ring-{n}", messages=[{"role": "user", "content": "hi"}]
                )

    kept = upstream.recorder.requests()
    assert [r.model for r in kept] == ["ring-2", "ring-3", "ring-4"]
    assert [r.sequence for r in kept] == [3, 4, 5]


def test_in_process_scripts_and_recorder(upstream_in_thread: tuple[FakeUpstream, str]) -> None:
    upstream, base_url = upstream_in_thread
    upstream.recorder.clear()
    upstream.scripts.add("in-process", [ScriptedReply(text="scripted in process")])
    with OpenAI(base_url=f"{base_url}/v1", api_key="k", max_retries=0) as sdk:
        completion = sdk.chat.completions.create(
            model="in-process", messages=[{"role": "user", "content": "hi"}]
        )

    assert completion.choices[0].message.content == "scripted in process"
    assert [r.model for r in upstream.recorder.requests()] == ["in-process"]
