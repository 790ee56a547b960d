"""`/v1/responses` with the official `openai` SDK against a real gateway process, for the fake
upstream speaking OpenAI and Azure (passed through to their own Responses API) and Anthropic
and Gemini (translated onto chat): text, streaming
(every event checked against the SDK's own types, with no field they don't define), a
function-call round trip, `previous_response_id`, JSON-schema output, GET/DELETE and errors."""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import BaseModel

from tests.gateway.providers.stack import MASTER_KEY, Stack, running_stack

BACKENDS = ("openai", "azure", "anthropic", "gemini")
PASSED_THROUGH = ("openai", "azure")
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def _event_classes() -> dict[str, type[BaseModel]]:
    """Every stream event class in the SDK, by its `type` literal."""
    union = typing.get_args(ResponseStreamEvent)[0]  # Annotated[Union[...], discriminator]
    classes: dict[str, type[BaseModel]] = {}
    for cls in typing.get_args(union):
        (literal,) = typing.get_args(cls.model_fields["type"].annotation)
        classes[literal] = cls
    return classes


EVENTS = _event_classes()


@pytest.fixture(scope="module")
def stack(service_log_dir: Path) -> Iterator[Stack]:
    with running_stack(service_log_dir) as running:
        yield running


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{stack.gateway_url}/v1", api_key=MASTER_KEY, max_retries=0) as c:
        yield c


def _no_unknown_fields(model: Any, where: str) -> None:
    """The SDK's models accept unknown fields silently; an event we invent or misspell must
    not pass for a real one."""
    if isinstance(model, BaseModel):
        assert not model.model_extra, (
            f"{where}: fields the SDK does not define: {model.model_extra}"
        )
        for name in type(model).model_fields:
            _no_unknown_fields(getattr(model, name), f"{where}.{name}")
    elif isinstance(model, list):
        for i, value in enumerate(model):
            _no_unknown_fields(value, f"{where}[{i}]")


def _raw_events(stack: Stack, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream as sent, each event validated strictly against the SDK's types."""
    events: list[dict[str, Any]] = []
    with httpx.stream(
        "POST",
        f"{stack.gateway_url}/v1/responses",
        json={**body, "stream": True},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=30,
    ) as response:
        assert response.status_code == 200, response.read()
        kind = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data: "):
                event = json.loads(line[len("data: ") :])
                assert event["type"] == kind
                assert event["type"] in EVENTS, f"not an SDK event type: {event['type']}"
                parsed = EVENTS[event["type"]].model_validate(event)
                _no_unknown_fields(parsed, event["type"])
                events.append(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


@pytest.mark.parametrize("backend", BACKENDS)
def test_text(backend: str, client: openai.OpenAI, stack: Stack) -> None:
    response = client.responses.create(
        model=f"{backend}-echo", input="hello there", instructions="Be brief."
    )
    assert response.status == "completed" and response.object == "response"
    assert response.output_text == "hello there"
    assert response.usage is not None and response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    _no_unknown_fields(response, "response")
    received = stack.received("echo")
    if backend in PASSED_THROUGH:
        assert received["path"].endswith("/responses")
        assert received["body"]["instructions"] == "Be brief."
        assert received["body"]["input"] == [
            {"type": "message", "role": "user", "content": "hello there"}
        ]
        assert response.id.startswith("resp_")  # the gateway's id, not the upstream's
    else:
        assert received["path"].endswith((":generateContent", "/messages"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_streamed_text_events_parse_into_sdk_types(
    backend: str, client: openai.OpenAI, stack: Stack
) -> None:
    events = _raw_events(stack, {"model": f"{backend}-echo", "input": "stream me please"})
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == "stream me please"
    assert "response.output_text.done" in kinds and "response.output_item.done" in kinds
    assert events[-1]["response"]["usage"]["output_tokens"] > 0

    with client.responses.stream(model=f"{backend}-echo", input="again") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "again" == final.output_text


def _script(stack: Stack, replies: list[dict[str, Any]]) -> None:
    """Replace whatever an earlier failed test left queued for the scripted model."""
    httpx.delete(f"{stack.upstream.url}/__fake__/script", timeout=10).raise_for_status()
    stack.script("scripted", replies)


def _tool_result_reached_upstream(stack: Stack, backend: str) -> bool:
    body = stack.received("scripted")["body"]
    if backend in PASSED_THROUGH:
        assert "previous_response_id" not in body  # the gateway sends the whole history
        return any(i.get("type") == "function_call_output" for i in body["input"])
    if backend == "anthropic":
        blocks = [
            b for m in body["messages"] if isinstance(m["content"], list) for b in m["content"]
        ]
        return any(b["type"] == "tool_result" for b in blocks)
    return any("functionResponse" in p for c in body["contents"] for p in c["parts"])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("streamed", [False, True])
def test_function_call_round_trip_with_previous_response_id(
    backend: str, streamed: bool, client: openai.OpenAI, stack: Stack
) -> None:
    _script(
        stack,
        [
            {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
            {"text": "It is sunny in Paris."},
        ],
    )
    model = f"{backend}-scripted"
    if streamed:
        events = _raw_events(
            stack, {"model": model, "input": "Weather in Paris?", "tools": [WEATHER]}
        )
        kinds = [e["type"] for e in events]
        assert "response.function_call_arguments.delta" in kinds
        assert "response.function_call_arguments.done" in kinds
        first = client.responses.retrieve(events[-1]["response"]["id"])
    else:
        first = client.responses.create(model=model, input="Weather in Paris?", tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Paris"}

    second = client.responses.create(
        model=model,
        previous_response_id=first.id,
        tools=[WEATHER],
        input=[
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21C"}
        ],
    )
    assert second.output_text == "It is sunny in Paris."
    assert second.previous_response_id == first.id
    assert _tool_result_reached_upstream(stack, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_previous_response_id_continues_and_delete_forgets(
    backend: str, client: openai.OpenAI, stack: Stack
) -> None:
    first = client.responses.create(model=f"{backend}-echo", input="my name is Ada")
    second = client.responses.create(
        model=f"{backend}-echo", input="what is my name?", previous_response_id=first.id
    )
    assert second.output_text == "what is my name?"
    if backend in PASSED_THROUGH:
        sent = stack.received("echo")["body"]["input"]
        assert [item["role"] for item in sent] == ["user", "assistant", "user"]
        assert sent[1]["content"] == [{"type": "output_text", "text": "my name is Ada"}]
    assert client.responses.retrieve(first.id).output_text == "my name is Ada"
    items = client.responses.input_items.list(second.id)
    assert len(items.data) == 3
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=f"{backend}-echo", input="x", previous_response_id=first.id)


@pytest.mark.parametrize("backend", BACKENDS)
def test_json_schema_output(backend: str, client: openai.OpenAI, stack: Stack) -> None:
    _script(stack, [{"text": '{"city": "Paris", "celsius": 21}'}])
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "celsius": {"type": "integer"}},
        "required": ["city", "celsius"],
        "additionalProperties": False,
    }
    response = client.responses.create(
        model=f"{backend}-scripted",
        input="Weather as JSON",
        text={
            "format": {"type": "json_schema", "name": "weather", "schema": schema, "strict": True}
        },
    )
    assert json.loads(response.output_text) == {"city": "Paris", "celsius": 21}
    assert response.text is not None and response.text.format.type == "json_schema"
    body = stack.received("scripted")["body"]
    if backend in PASSED_THROUGH:
        assert body["text"]["format"]["schema"] == schema
    elif backend == "gemini":
        assert body["generationConfig"]["responseMimeType"] == "application/json"


def test_errors(client: openai.OpenAI, stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(
            model="anthropic-echo", input="x", tools=[{"type": "web_search_preview"}]
        )
    assert "web_search_preview" in raised.value.message
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="no-such-model", input="x")
    missing = httpx.post(
        f"{stack.gateway_url}/v1/responses",
        json={"model": "openai-echo"},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "input"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{stack.gateway_url}/v1", api_key="sk-wrong").responses.create(
            model="openai-echo", input="x"
        )


def test_a_response_belongs_to_its_key(client: openai.OpenAI, stack: Stack) -> None:
    mine = client.responses.create(model="openai-echo", input="private")
    key = httpx.post(
        f"{stack.gateway_url}/key/generate",
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        json={},
    ).json()["key"]
    with openai.OpenAI(base_url=f"{stack.gateway_url}/v1", api_key=key, max_retries=0) as other:
        with pytest.raises(openai.NotFoundError):
            other.responses.retrieve(mine.id)
        theirs = other.responses.create(model="openai-echo", input="theirs", store=True)
        assert other.responses.retrieve(theirs.id).output_text == "theirs"
        unstored = other.responses.create(model="openai-echo", input="gone", store=False)
        with pytest.raises(openai.NotFoundError):
            other.responses.retrieve(unstored.id)
