"""End to end through the official OpenAI SDK: fake upstream, gateway, MCP servers and the
middleware as real processes."""

from __future__ import annotations

import anyio
import httpx
import orjson
import pytest
from openai import OpenAI

from tests.middleware.conftest import FIXTURE_TABLE
from tests.middleware.stack import MASTER_KEY, Stack
from tests.support.components import require_component


def _client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=stack.base_url, api_key=MASTER_KEY, max_retries=0, timeout=60)


def _sql_call() -> dict[str, object]:
    return {
        "tool_calls": [
            {
                "name": "execute_sql",
                "arguments": {"sql": f"SELECT name FROM {FIXTURE_TABLE} WHERE id = 1"},
            }
        ]
    }


def _tool_messages(body: dict[str, object]) -> list[dict[str, object]]:
    messages = body["messages"]
    assert isinstance(messages, list)
    return [m for m in messages if m.get("role") == "tool"]


def test_model_calls_execute_sql_then_answers(stack: Stack, postgres_ready: bool) -> None:
    require_component(postgres_ready, "PostgreSQL on 127.0.0.1:5432")
    stack.script("mw-sql", [_sql_call(), {"text": "The row is toolrelay-row-alpha."}])

    reply = _client(stack).chat.completions.create(
        model="mw-sql", messages=[{"role": "user", "content": "what is row 1?"}]
    )

    assert reply.choices[0].message.content == "The row is toolrelay-row-alpha."
    assert reply.choices[0].finish_reason == "stop"
    assert not reply.choices[0].message.tool_calls
    received = stack.received("mw-sql")
    assert len(received) == 2
    assert any(t["function"]["name"] == "execute_sql" for t in received[0]["tools"])
    tool_results = _tool_messages(received[1])
    assert len(tool_results) == 1
    assert "toolrelay-row-alpha" in str(tool_results[0]["content"])
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == sum(_prompt_tokens(stack, body) for body in received)
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def _prompt_tokens(stack: Stack, body: dict[str, object]) -> int:
    """What one recorded model call cost in prompt tokens: replay it to the fake upstream
    (its prompt count depends only on the request)."""
    replay = {**body, "model": "mw-replay"}
    response = httpx.post(f"{stack.upstream.url}/v1/chat/completions", json=replay, timeout=30)
    response.raise_for_status()
    return int(response.json()["usage"]["prompt_tokens"])


def test_streaming_sql_has_progress_block_and_no_tool_call_deltas(
    either_stack: Stack, postgres_ready: bool
) -> None:
    stack = either_stack
    require_component(postgres_ready, "PostgreSQL on 127.0.0.1:5432")
    stack.script("mw-sql-stream", [_sql_call(), {"text": "Row one is toolrelay-row-alpha."}])

    chunks = list(
        _client(stack).chat.completions.create(
            model="mw-sql-stream",
            messages=[{"role": "user", "content": "what is row 1?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert '<details type="tool_calls" done="true"' in content
    assert 'name="execute_sql"' in content
    assert "toolrelay-row-alpha" in content  # the result, HTML-escaped JSON in the block
    assert content.endswith("Row one is toolrelay-row-alpha.")
    assert all(not (c.choices and c.choices[0].delta.tool_calls) for c in chunks)
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1
    assert usage_chunks[0].usage is not None and usage_chunks[0].usage.total_tokens > 0


def test_parallel_calls_run_concurrently(stack: Stack) -> None:
    # Each barrier call waits for the other to start: run one after the other, they fail.
    stack.script(
        "mw-parallel",
        [
            {
                "tool_calls": [
                    {"name": "barrier", "arguments": {"group": "parallel-1", "party": "a"}},
                    {"name": "barrier", "arguments": {"group": "parallel-1", "party": "b"}},
                ]
            },
            {"text": "both met"},
        ],
    )

    reply = _client(stack).chat.completions.create(
        model="mw-parallel", messages=[{"role": "user", "content": "meet"}]
    )

    assert reply.choices[0].message.content == "both met"
    results = [str(m["content"]) for m in _tool_messages(stack.received("mw-parallel")[-1])]
    assert results == ["barrier parallel-1 met by a", "barrier parallel-1 met by b"]


def test_image_result_becomes_a_signed_url(stack: Stack) -> None:
    stack.script(
        "mw-image", [{"tool_calls": [{"name": "picture", "arguments": {}}]}, {"text": "done"}]
    )

    _client(stack).chat.completions.create(
        model="mw-image", messages=[{"role": "user", "content": "draw"}]
    )

    result = str(_tool_messages(stack.received("mw-image")[-1])[0]["content"])
    url = result[result.index("http") : result.rindex("]")]
    assert url.startswith(f"{stack.middleware.url}/files/")
    image = httpx.get(url)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    tampered = url.replace("sig=", "sig=0") if "sig=0" not in url else url.replace("sig=0", "sig=1")
    assert httpx.get(tampered).status_code == 403
    other_file = url.replace(url.split("/files/")[1][:8], "00000000")
    assert httpx.get(other_file).status_code == 403


def test_tool_failure_goes_back_to_the_model(stack: Stack) -> None:
    stack.script(
        "mw-fail",
        [
            {"tool_calls": [{"name": "fail", "arguments": {"reason": "disk on fire"}}]},
            {"text": "sorry"},
        ],
    )

    reply = _client(stack).chat.completions.create(
        model="mw-fail", messages=[{"role": "user", "content": "try"}]
    )

    assert reply.choices[0].message.content == "sorry"
    result = str(_tool_messages(stack.received("mw-fail")[-1])[0]["content"])
    assert result.startswith("Tool error")


def test_oversized_result_is_truncated_with_a_url_to_all_of_it(stack: Stack) -> None:
    stack.script(
        "mw-big",
        [{"tool_calls": [{"name": "big_text", "arguments": {"size": 5000}}]}, {"text": "ok"}],
    )

    _client(stack).chat.completions.create(
        model="mw-big", messages=[{"role": "user", "content": "big"}]
    )

    result = str(_tool_messages(stack.received("mw-big")[-1])[0]["content"])
    assert result.startswith("0123456789")
    assert "showing 2000 of 5000 characters" in result
    url = result[result.index("Full result: ") + len("Full result: ") : result.rindex("]")]
    full = httpx.get(url)
    assert full.status_code == 200
    assert len(full.text) == 5000


def test_model_calling_tools_forever_stops_at_max_iterations(stack: Stack) -> None:
    # The fake `tool-call` model calls the first tool it is offered, whenever it has tools.
    reply = _client(stack).chat.completions.create(
        model="tool-call", messages=[{"role": "user", "content": "loop"}]
    )

    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content
    received = stack.received("tool-call")[-4:]
    assert [bool(body.get("tools")) for body in received] == [True, True, True, False]
    # the second identical call was not run again; the model was told
    repeated = _tool_messages(received[2])[-1]
    assert "Not run again" in str(repeated["content"])


def test_x_request_id_reaches_the_mcp_server(stack: Stack) -> None:
    stack.script(
        "mw-reqid",
        [
            {"tool_calls": [{"name": "request_header", "arguments": {"name": "x-request-id"}}]},
            {"text": "ok"},
        ],
    )

    response = httpx.post(
        f"{stack.base_url}/chat/completions",
        json={"model": "mw-reqid", "messages": [{"role": "user", "content": "id?"}]},
        headers={"Authorization": f"Bearer {MASTER_KEY}", "x-request-id": "req-abc-123"},
        timeout=60,
    )

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-abc-123"
    result = str(_tool_messages(stack.received("mw-reqid")[-1])[0]["content"])
    assert result == "req-abc-123"
    gateway_lines = [
        orjson.loads(line)
        for line in stack.gateway.log().splitlines()
        if line.startswith("{") and '"req-abc-123"' in line
    ]
    # Both model calls carried the client's request id (every line of a request has it; one
    # access line per request).
    assert len([r for r in gateway_lines if r["event"] == "request"]) == 2


def test_gateway_errors_come_back_with_their_status(stack: Stack) -> None:
    # One 429 per attempt: the gateway's router retries twice before giving up.
    stack.script("mw-error", [{"error": {"status": 429, "message": "slow down"}}] * 3)
    response = httpx.post(
        f"{stack.base_url}/chat/completions",
        json={"model": "mw-error", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=60,
    )
    assert response.status_code == 429
    assert "error" in response.json()

    bad_key = httpx.post(
        f"{stack.base_url}/chat/completions",
        json={"model": "mw-error", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": "Bearer wrong"},
        timeout=60,
    )
    assert bad_key.status_code == 401
    assert bad_key.json()["error"]["type"] == "authentication_error"


def test_heartbeats_flow_while_a_slow_tool_runs(either_stack: Stack) -> None:
    stack = either_stack
    stack.script(
        "mw-heartbeat",
        [{"tool_calls": [{"name": "slow", "arguments": {"seconds": 1.0}}]}, {"text": "awake"}],
    )
    lines: list[str] = []
    with httpx.stream(
        "POST",
        f"{stack.base_url}/chat/completions",
        json={
            "model": "mw-heartbeat",
            "stream": True,
            "messages": [{"role": "user", "content": "nap"}],
        },
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=60,
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert ": keep-alive" in lines
    assert lines[-1] == "data: [DONE]"
    payloads = [orjson.loads(line[6:]) for line in lines if line.startswith("data: {")]
    text = "".join(p["choices"][0]["delta"].get("content") or "" for p in payloads if p["choices"])
    assert text.endswith("awake")


@pytest.mark.anyio
async def test_models_are_passed_through(stack: Stack) -> None:
    with anyio.fail_after(30):
        async with httpx.AsyncClient() as client:
            response = await client.get(
                f"{stack.base_url}/models", headers={"Authorization": f"Bearer {MASTER_KEY}"}
            )
    assert response.status_code == 200
    assert "mw-sql" in {m["id"] for m in response.json()["data"]}


def test_health_metrics_and_tool_log_lines(stack: Stack) -> None:
    ready = httpx.get(f"{stack.middleware.url}/health/readiness")
    assert ready.status_code == 200
    body = ready.json()
    assert body["gateway"]["reachable"] is True
    assert {s["name"] for s in body["mcp_servers"]} >= {"test", "victim"}
    assert httpx.get(f"{stack.middleware.url}/health/liveliness").json() == {"status": "ok"}

    stack.script(
        "mw-reqid",
        [{"tool_calls": [{"name": "test_echo", "arguments": {"text": "m"}}]}, {"text": "ok"}],
    )
    httpx.post(
        f"{stack.base_url}/chat/completions",
        json={"model": "mw-reqid", "messages": [{"role": "user", "content": "m"}]},
        headers={"Authorization": f"Bearer {MASTER_KEY}", "x-request-id": "req-metrics-1"},
        timeout=60,
    ).raise_for_status()

    metrics = httpx.get(f"{stack.middleware.url}/metrics").text
    assert 'toolrelay_mcp_tool_calls_total{outcome="ok",server="test",tool="echo"}' in metrics
    assert "toolrelay_mcp_tool_duration_seconds_bucket" in metrics
    assert "toolrelay_middleware_loop_iterations_count" in metrics
    lines = [
        orjson.loads(line)
        for line in stack.middleware.log().splitlines()
        if line.startswith("{") and '"tool call"' in line
    ]
    (line,) = [entry for entry in lines if entry.get("request_id") == "req-metrics-1"]
    assert line["server"] == "test" and line["tool"] == "echo" and line["outcome"] == "ok"
    assert isinstance(line["duration_ms"], float)
