"""One traced chat across real processes: middleware, gateway, fake upstream and the
postgres MCP server, exporting to test OTLP receivers (a plain one and a Langfuse-shaped one
that checks the basic-auth pair)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from openai import OpenAI

from tests.middleware.conftest import FIXTURE_TABLE
from tests.middleware.stack import MASTER_KEY, gateway_config, write_yaml
from tests.support.components import POSTGRES_DSN, require_component
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan, running_receiver
from tests.support.processes import ServiceProcess, free_port, start_service
from tests.testing.fake_upstream.harness import running_fake_upstream

MODEL = "trace-sql"
LANGFUSE_PUBLIC, LANGFUSE_SECRET = "pk-lf-test", "sk-lf-test"
CALLBACKS = {
    "callbacks": ["otel"],
    "success_callback": ["langfuse"],
    "langfuse_default_tags": ["toolrelay-test"],
}


@dataclass
class TracedStack:
    upstream: ServiceProcess
    gateway: ServiceProcess
    middleware: ServiceProcess
    otlp: OtlpReceiver
    langfuse: OtlpReceiver


def _start(
    name: str, args: list[str], log_dir: Path, env: dict[str, str], health: str
) -> ServiceProcess:
    port = free_port()
    return start_service(
        name, [*args, "--port", str(port)], port=port, log_dir=log_dir, env=env, health_path=health
    )


@pytest.fixture(scope="module")
def traced(
    service_log_dir: Path, tmp_path_factory: pytest.TempPathFactory, postgres_ready: bool
) -> Iterator[TracedStack]:
    require_component(postgres_ready, "PostgreSQL on 127.0.0.1:5432")
    config_dir = tmp_path_factory.mktemp("traced-config")
    auth = "Basic " + base64.b64encode(f"{LANGFUSE_PUBLIC}:{LANGFUSE_SECRET}".encode()).decode()
    started: list[ServiceProcess] = []
    with (
        running_receiver() as otlp,
        running_receiver(path="/api/public/otel/v1/traces", required_auth=auth) as langfuse,
        running_fake_upstream(service_log_dir) as upstream,
    ):
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.base_url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "LANGFUSE_PUBLIC_KEY": LANGFUSE_PUBLIC,
            "LANGFUSE_SECRET_KEY": LANGFUSE_SECRET,
            "LANGFUSE_HOST": langfuse.base_url,
        }
        try:
            gateway_file = write_yaml(
                config_dir / "gateway.yaml",
                {**gateway_config(upstream.url, [MODEL]), "litellm_settings": CALLBACKS},
            )
            gateway = _start(
                "traced-gateway",
                ["-m", "toolrelay", "gateway", "--config", str(gateway_file)],
                service_log_dir, env, "/health/liveliness",
            )  # fmt: skip
            started.append(gateway)
            pg_file = write_yaml(
                config_dir / "postgres.yaml",
                {
                    "litellm_settings": CALLBACKS,
                    "mcp_server_settings": {"postgres": {"dsn": POSTGRES_DSN}},
                },
            )
            postgres = _start(
                "traced-postgres-mcp",
                ["-m", "mcp_servers.cli", "postgres", "--config", str(pg_file)],
                service_log_dir, env, "/healthz",
            )  # fmt: skip
            started.append(postgres)
            middleware_file = write_yaml(
                config_dir / "middleware.yaml",
                {
                    "litellm_settings": CALLBACKS,
                    "general_settings": {"master_key": MASTER_KEY},
                    "mcp_servers": {"postgres": {"url": f"{postgres.url}/mcp"}},
                    "middleware_settings": {"gateway_url": gateway.url, "max_iterations": 3},
                    "storage": {"local_dir": str(config_dir / "artifacts")},
                },
            )
            middleware = _start(
                "traced-middleware",
                ["-m", "toolrelay", "middleware", "--config", str(middleware_file)],
                service_log_dir, env, "/health/liveliness",
            )  # fmt: skip
            started.append(middleware)
            yield TracedStack(upstream, gateway, middleware, otlp, langfuse)
        finally:
            for process in reversed(started):
                process.stop()


def _chat(stack: TracedStack) -> Any:
    import httpx

    script = [
        {
            "tool_calls": [
                {
                    "name": "execute_sql",
                    "arguments": {"sql": f"SELECT name FROM {FIXTURE_TABLE} WHERE id = 1"},
                }
            ]
        },
        {"text": "The row is toolrelay-row-alpha."},
    ]
    httpx.post(
        f"{stack.upstream.url}/__fake__/script", json={"model": MODEL, "replies": script}
    ).raise_for_status()
    client = OpenAI(
        base_url=f"{stack.middleware.url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=60
    )
    return client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "what is row 1?"}],
        user="alice",
        extra_body={"metadata": {"session_id": "session-42", "tags": ["chat"]}},
    )


def _children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[ReceivedSpan]:
    return [s for s in spans if s.parent_span_id == parent.span_id]


def _root(spans: list[ReceivedSpan]) -> ReceivedSpan | None:
    for span in spans:
        if (span.service, span.kind, span.name) == (
            "toolrelay-middleware",
            "SERVER",
            "POST /v1/chat/completions",
        ):
            return span
    return None


def _complete(spans: list[ReceivedSpan]) -> bool:
    root = _root(spans)
    if root is None:
        return False
    mine = [s for s in spans if s.trace_id == root.trace_id]
    services = {s.service for s in mine}
    upstream = [s for s in mine if s.name.startswith("upstream ")]
    return {"toolrelay-gateway", "toolrelay-mcp-postgres"} <= services and len(upstream) >= 2


def test_one_chat_with_execute_sql_is_one_trace(traced: TracedStack) -> None:
    reply = _chat(traced)
    assert reply.choices[0].message.content == "The row is toolrelay-row-alpha."

    spans = traced.otlp.wait_for(_complete)
    root = _root(spans)
    assert root is not None and root.parent_span_id == ""
    # noted by the request-id middleware, read by the span when the request is over
    assert root.attributes["http.response.status_code"] == 200
    trace = [s for s in spans if s.trace_id == root.trace_id]

    # Loop iterations are events on the request's span, not spans of their own.
    iterations = [attrs for name, attrs in root.events if name == "iteration"]
    assert [i["toolrelay.loop.iteration"] for i in iterations] == [1, 2]

    model_calls = [
        s for s in trace if s.service == "toolrelay-middleware" and s.name.startswith("chat ")
    ]
    assert len(model_calls) == 2
    assert {c.parent_span_id for c in model_calls} == {root.span_id}
    for call in model_calls:
        assert call.name == f"chat {MODEL}"
        assert call.attributes["gen_ai.request.model"] == MODEL
        (gateway_span,) = _children(trace, call)
        assert gateway_span.service == "toolrelay-gateway"
        assert gateway_span.kind == "SERVER"
        assert gateway_span.name == f"chat {MODEL}"
        assert gateway_span.attributes["gen_ai.provider.name"] == "openai"
        assert gateway_span.attributes["http.response.status_code"] == 200
        (upstream,) = _children(trace, gateway_span)
        assert upstream.kind == "CLIENT"
        assert upstream.name == f"upstream openai/{MODEL}"
        assert upstream.attributes["toolrelay.router.retry"] == 0
        # The three views of one model call agree on its usage.
        for key in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"):
            assert call.attributes[key] == gateway_span.attributes[key] == upstream.attributes[key]

    assert reply.usage is not None
    assert sum(c.attributes["gen_ai.usage.input_tokens"] for c in model_calls) == (
        reply.usage.prompt_tokens
    )
    assert sum(c.attributes["gen_ai.usage.output_tokens"] for c in model_calls) == (
        reply.usage.completion_tokens
    )
    finishes = sorted(tuple(c.attributes["gen_ai.response.finish_reasons"]) for c in model_calls)
    assert finishes == [("stop",), ("tool_calls",)]

    (tool,) = [s for s in _children(trace, root) if s.name.startswith("execute_tool")]
    assert tool.name == "execute_tool execute_sql"
    assert tool.attributes["gen_ai.tool.name"] == "execute_sql"
    assert tool.attributes["toolrelay.tool.outcome"] == "ok"
    # The server's span is the tool call's child. The MCP SDK's own spans (its client's
    # `MCP send tools/call ...`, its server's `tools/call ...`) would repeat both: none.
    (server,) = _children(trace, tool)
    assert (server.service, server.kind) == ("toolrelay-mcp-postgres", "SERVER")
    assert server.name == "mcp postgres tools/call execute_sql"
    assert server.attributes["gen_ai.tool.name"] == "execute_sql"
    assert not _children(trace, server)
    assert not [s for s in trace if s.name.startswith(("MCP send", "tools/"))]

    # Content is off by default: no prompt or completion events anywhere.
    assert not [e for s in trace for e in s.events if e[0].startswith("gen_ai.content")]

    # The request's log lines carry its trace id, in both services.
    tool_lines = [r for r in _log_records(traced.middleware) if r.get("event") == "tool call"]
    assert tool_lines[-1]["trace_id"] == root.trace_id
    gateway_lines = [r for r in _log_records(traced.gateway) if r.get("trace_id") == root.trace_id]
    assert {r["event"] for r in gateway_lines} >= {"request"}
    assert all(r["request_id"] for r in gateway_lines)


def _log_records(service: ServiceProcess) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in service.log().splitlines() if line.startswith("{")]


def _langfuse_type(span: ReceivedSpan) -> str:
    """The observation type Langfuse's OTLP ingestion gives a span, by the rules our spans
    meet, in its order (`ObservationTypeMapper` in langfuse/langfuse): the explicit
    `langfuse.observation.type`, then `gen_ai.operation.name`, then a tool or model name.
    Our reading of its source: no Langfuse server runs here."""
    attributes = span.attributes
    explicit = attributes.get("langfuse.observation.type")
    if isinstance(explicit, str):
        return explicit
    operation = attributes.get("gen_ai.operation.name")
    by_operation = {
        "chat": "generation", "text_completion": "generation", "embeddings": "embedding",
        "execute_tool": "tool",
    }  # fmt: skip
    if operation in by_operation:
        return by_operation[str(operation)]
    if "gen_ai.tool.name" in attributes:
        return "tool"
    if "gen_ai.request.model" in attributes or "gen_ai.response.model" in attributes:
        return "generation"
    return "span"


def test_langfuse_gets_the_same_trace_with_basic_auth(traced: TracedStack) -> None:
    reply = _chat(traced)
    assert reply.choices[0].message.content == "The row is toolrelay-row-alpha."
    spans = traced.otlp.wait_for(_complete)
    roots = [s for s in spans if _root([s]) is not None]
    latest = roots[-1]

    def arrived(received: list[ReceivedSpan]) -> bool:
        return _complete([s for s in received if s.trace_id == latest.trace_id])

    got = traced.langfuse.wait_for(arrived)
    assert traced.langfuse.rejected == 0
    mine = {(s.span_id, s.name) for s in got if s.trace_id == latest.trace_id}
    sent = {(s.span_id, s.name) for s in spans if s.trace_id == latest.trace_id}
    assert sent <= mine
    # One generation per model request, so Langfuse counts its tokens and cost once: the
    # gateway's request span. The middleware's call and the router's attempt say "span".
    trace = [s for s in got if s.trace_id == latest.trace_id]
    generations = [s for s in trace if _langfuse_type(s) == "generation"]
    assert {(s.service, s.kind) for s in generations} == {("toolrelay-gateway", "SERVER")}
    assert len(generations) == 2
    assert reply.usage is not None
    assert sum(g.attributes["gen_ai.usage.input_tokens"] for g in generations) == (
        reply.usage.prompt_tokens
    )
    assert sum(g.attributes["gen_ai.usage.output_tokens"] for g in generations) == (
        reply.usage.completion_tokens
    )
    # One tool observation per tool call: the middleware's; the server's span says "span".
    assert [s.name for s in trace if _langfuse_type(s) == "tool"] == ["execute_tool execute_sql"]
    gateway_spans = [
        s for s in got if s.trace_id == latest.trace_id and s.service == "toolrelay-gateway"
        and s.kind == "SERVER"
    ]  # fmt: skip
    assert gateway_spans
    for span in gateway_spans:
        assert span.attributes["user.id"] == "alice"
        assert span.attributes["session.id"] == "session-42"
        assert span.attributes["langfuse.trace.tags"] == ["toolrelay-test", "chat"]


def test_requests_are_unaffected_when_receivers_are_slow_or_down(
    service_log_dir: Path, tmp_path: Path
) -> None:
    """The gateway exports to a receiver that does not answer; the middleware to a port
    where nothing listens. Chats still succeed; the stalled spans arrive once it answers."""
    with running_receiver() as stalled, running_fake_upstream(service_log_dir) as upstream:
        stalled.hold()
        started: list[ServiceProcess] = []
        try:
            gateway_file = write_yaml(
                tmp_path / "gateway.yaml",
                {**gateway_config(upstream.url, ["slow-receiver"]), "litellm_settings": {}},
            )
            gateway = _start(
                "slow-receiver-gateway",
                ["-m", "toolrelay", "gateway", "--config", str(gateway_file)],
                service_log_dir,
                {"OTEL_EXPORTER_OTLP_ENDPOINT": stalled.base_url},
                "/health/liveliness",
            )
            started.append(gateway)
            middleware_file = write_yaml(
                tmp_path / "middleware.yaml",
                {
                    "litellm_settings": {"callbacks": ["otel"]},
                    "general_settings": {"master_key": MASTER_KEY},
                    "middleware_settings": {"gateway_url": gateway.url},
                    "storage": {"local_dir": str(tmp_path / "artifacts")},
                },
            )
            middleware = _start(
                "down-receiver-middleware",
                ["-m", "toolrelay", "middleware", "--config", str(middleware_file)],
                service_log_dir,
                {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}"},
                "/health/liveliness",
            )
            started.append(middleware)
            client = OpenAI(
                base_url=f"{middleware.url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=30
            )
            for i in range(5):
                reply = client.chat.completions.create(
                    model="slow-receiver", messages=[{"role": "user", "content": f"hi {i}"}]
                )
                assert reply.choices[0].finish_reason == "stop"
            assert stalled.snapshot() == []
            stalled.release()
            spans = stalled.wait_for(
                lambda got: len([s for s in got if s.name == "chat slow-receiver"]) >= 5
            )
            assert {s.service for s in spans} == {"toolrelay-gateway"}
        finally:
            for process in reversed(started):
                process.stop()


def test_a_failed_gateway_call_is_a_named_error_span_with_its_attempt(
    traced: TracedStack,
) -> None:
    """The request's span gets its name, model and outcome when the call is over: a call the
    upstream refuses is `chat <group>` with an error status and type, and its one attempt (a
    400 is not retried) is its child, marked as an error too."""
    import httpx

    httpx.post(
        f"{traced.upstream.url}/__fake__/script",
        json={"model": MODEL, "replies": [{"error": {"status": 400, "message": "no thanks"}}]},
    ).raise_for_status()
    answer = httpx.post(
        f"{traced.gateway.url}/v1/chat/completions",
        headers={"authorization": f"Bearer {MASTER_KEY}"},
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "user": "bob"},
        timeout=30,
    )
    assert answer.status_code == 400

    def refused(spans: list[ReceivedSpan]) -> bool:
        return any(s.attributes.get("user.id") == "bob" for s in spans)

    spans = traced.otlp.wait_for(refused)
    (request,) = [s for s in spans if s.attributes.get("user.id") == "bob"]
    assert (request.service, request.kind, request.name) == (
        "toolrelay-gateway", "SERVER", f"chat {MODEL}",
    )  # fmt: skip
    assert request.parent_span_id == ""  # no traceparent was sent: a trace of its own
    assert request.status_code == 2  # ERROR
    assert request.attributes["error.type"]
    assert request.attributes["gen_ai.request.model"] == MODEL
    assert request.attributes["gen_ai.operation.name"] == "chat"
    assert request.attributes["http.response.status_code"] == 400
    assert request.attributes["toolrelay.request_id"]

    def attempted(received: list[ReceivedSpan]) -> bool:
        return bool(_children(received, request))

    (attempt,) = _children(traced.otlp.wait_for(attempted), request)
    assert attempt.name == f"upstream openai/{MODEL}" and attempt.kind == "CLIENT"
    assert attempt.status_code == 2
    assert [name for name, _ in attempt.events] == ["exception"]


def test_an_embeddings_call_and_its_attempt_name_their_operation(traced: TracedStack) -> None:
    """The request's span and its router attempt say the same `gen_ai.operation.name`: an
    embeddings call is `embeddings` on both (the attempt once said `chat` for every call)."""
    import httpx

    answer = httpx.post(
        f"{traced.gateway.url}/v1/embeddings",
        headers={"authorization": f"Bearer {MASTER_KEY}"},
        json={"model": MODEL, "input": "a row to embed", "user": "embedder"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text

    def embedded(spans: list[ReceivedSpan]) -> bool:
        requests = [s for s in spans if s.attributes.get("user.id") == "embedder"]
        return bool(requests) and bool(_children(spans, requests[0]))

    spans = traced.otlp.wait_for(embedded)
    (request,) = [s for s in spans if s.attributes.get("user.id") == "embedder"]
    assert request.name == f"embeddings {MODEL}"
    assert request.attributes["gen_ai.operation.name"] == "embeddings"
    (attempt,) = _children(spans, request)
    assert attempt.name == f"upstream openai/{MODEL}"
    assert attempt.attributes["gen_ai.operation.name"] == "embeddings"
