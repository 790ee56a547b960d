"""OpenAI's Responses API (`POST /v1/responses`) and Azure's v1 API (`POST
/openai/v1/responses`, key in an `api-key` header, `model` naming the deployment), whole or as
SSE events.

Requests are checked like the real API: known fields only; `input` a string or items; every
`function_call_output` answering a `function_call` earlier in the input; function tools with
a name; `text.format` one of text/json_object/json_schema (with a name and schema). The fake
stores nothing, so a `previous_response_id` is always "not found", as it would be for an id
the API never issued. Replies: a `message` item with `output_text`, `function_call` items;
streams as `response.created`, `response.in_progress`, the items' added/delta/done events,
`response.completed` with usage, each with a `sequence_number`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson

from .. import errors
from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Prompt, Reply, ReplyError
from ..state import UpstreamState
from . import Route
from .azure import api_key
from .openai_wire import argument_pieces, error_body, text_pieces

_FIELDS = frozenset(
    {
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "text",
        "reasoning",
        "max_output_tokens",
        "temperature",
        "top_p",
        "user",
        "stream",
        "store",
        "previous_response_id",
        "metadata",
        "include",
        "truncation",
        "service_tier",
    }
)
_ITEM_TYPES = frozenset({"message", "function_call", "function_call_output", "reasoning"})


def _invalid(param: str, message: str) -> ReplyError:
    return errors.invalid_parameter(param, message)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def parse(body: Any) -> Prompt | ReplyError:
    if not isinstance(body, dict):
        return errors.invalid_json()
    for key in body:
        if key not in _FIELDS:
            return _invalid(key, f"Unknown parameter: '{key}'.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return errors.missing_parameter("model")
    previous = body.get("previous_response_id")
    if previous is not None:
        return ReplyError(
            404,
            f"Previous response with id '{previous}' not found.",
            "invalid_request_error",
            None,
            "previous_response_id",
        )
    raw = body.get("input")
    if raw is None:
        return errors.missing_parameter("input")
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        return _invalid("input", "Invalid 'input': expected a string or a non-empty array.")
    calls: set[str] = set()
    last_user = ""
    chars = len(str(body.get("instructions") or ""))
    for i, item in enumerate(items):
        kind = item.get("type", "message") if isinstance(item, dict) else None
        if kind not in _ITEM_TYPES or not isinstance(item, dict):
            return _invalid(f"input[{i}]", f"Invalid 'input[{i}]': unknown item type {kind!r}.")
        if kind == "message":
            if item.get("role") not in ("user", "assistant", "system", "developer"):
                return _invalid(f"input[{i}].role", f"Invalid 'input[{i}].role'.")
            text = _text(item.get("content"))
            chars += len(text)
            if item["role"] == "user":
                last_user = text
        elif kind == "function_call":
            if not isinstance(item.get("call_id"), str) or not isinstance(item.get("name"), str):
                return _invalid(f"input[{i}]", "function_call items need 'call_id' and 'name'.")
            calls.add(item["call_id"])
        elif kind == "function_call_output":
            if item.get("call_id") not in calls:
                return _invalid(
                    f"input[{i}].call_id",
                    f"No tool call found for function call output with call_id "
                    f"{item.get('call_id')}.",
                )
            chars += len(_text(item.get("output")))
    names: list[str] = []
    for k, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or tool.get("type") != "function" or not tool.get("name"):
            return _invalid(f"tools[{k}]", f"Invalid 'tools[{k}]': a function tool with a name.")
        names.append(tool["name"])
    text_options = body.get("text")
    fmt = text_options.get("format") if isinstance(text_options, dict) else None
    if fmt is not None:
        format_type = fmt.get("type") if isinstance(fmt, dict) else None
        if format_type not in ("text", "json_object", "json_schema"):
            return _invalid("text.format.type", "Invalid 'text.format.type'.")
        if format_type == "json_schema" and not (
            isinstance(fmt, dict) and fmt.get("name") and isinstance(fmt.get("schema"), dict)
        ):
            return _invalid("text.format", "json_schema formats need 'name' and 'schema'.")
    stream = body.get("stream") is True
    return Prompt(model, last_user, tuple(names), chars, stream, stream)


class ResponseRenderer:
    def __init__(self, response_id: str, model: str, request: dict[str, Any]) -> None:
        self._id = response_id
        self._model = model
        self._created = int(time.time())
        # As the API does, the response repeats the request's settings.
        self._settings = {
            "instructions": request.get("instructions"),
            "parallel_tool_calls": request.get("parallel_tool_calls", True),
            "text": request.get("text") or {"format": {"type": "text"}},
            "tool_choice": request.get("tool_choice") or "auto",
            "tools": request.get("tools") or [],
        }

    def _response(self, status: str, output: list[dict[str, Any]], reply: Reply | None) -> Any:
        usage = None
        if reply is not None:
            usage = {
                "input_tokens": reply.usage.prompt_tokens,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": reply.usage.completion_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": reply.usage.prompt_tokens + reply.usage.completion_tokens,
            }
        return {
            "id": self._id,
            "object": "response",
            "created_at": self._created,
            "status": status,
            "model": self._model,
            "output": output,
            **self._settings,
            "usage": usage,
        }

    def _items(self, reply: Reply) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if reply.text:
            items.append(
                {
                    "id": f"msg_{self._id}",
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
                }
            )
        for call in reply.tool_calls:
            items.append(
                {
                    "id": f"fc_{call.id}",
                    "type": "function_call",
                    "status": "completed",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments,
                }
            )
        return items

    def body(self, reply: Reply) -> bytes:
        return orjson.dumps(self._response("completed", self._items(reply), reply))

    def frames(self, reply: Reply) -> Iterator[bytes]:
        sequence = iter(range(1_000_000))

        def event(kind: str, **fields: Any) -> bytes:
            payload = {"type": kind, "sequence_number": next(sequence), **fields}
            return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"

        yield event("response.created", response=self._response("in_progress", [], None))
        yield event("response.in_progress", response=self._response("in_progress", [], None))
        items = self._items(reply)
        for index, item in enumerate(items):
            if item["type"] == "message":
                text = item["content"][0]["text"]
                yield event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "content": []},
                )
                part = {"type": "output_text", "text": "", "annotations": []}
                common = {"item_id": item["id"], "output_index": index, "content_index": 0}
                yield event("response.content_part.added", part=part, **common)
                for piece in text_pieces(text):
                    yield event("response.output_text.delta", delta=piece, logprobs=[], **common)
                yield event("response.output_text.done", text=text, logprobs=[], **common)
                yield event("response.content_part.done", part=item["content"][0], **common)
            else:
                yield event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "arguments": ""},
                )
                for piece in argument_pieces(item["arguments"]):
                    yield event(
                        "response.function_call_arguments.delta",
                        item_id=item["id"],
                        output_index=index,
                        delta=piece,
                    )
                yield event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    arguments=item["arguments"],
                )
            yield event("response.output_item.done", output_index=index, item=item)
        yield event("response.completed", response=self._response("completed", items, reply))

    def error_body(self, error: ReplyError) -> bytes:
        return error_body(error)

    def malformed_body(self) -> bytes:
        return b'{"id": "' + self._id.encode() + b'", "object": "response", "output": [{'

    def malformed_frame(self) -> bytes:
        return b'event: response.output_text.delta\ndata: {"type": "response.output_te\n\n'


async def _respond(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    prompt = parse(body)
    if isinstance(prompt, ReplyError):
        await exchange.respond(prompt.status, error_body(prompt), headers=prompt.headers)
        return
    reply = state.scenario.plan(prompt)
    renderer = ResponseRenderer(state.ids.next("resp"), prompt.model, body)
    await deliver(exchange, reply, renderer, stream=prompt.stream)


async def create(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await _respond(state, exchange, body)


def routes() -> list[Route]:
    return [
        Route("POST", "/responses", create, error_body),
        Route("POST", "/openai/v1/responses", create, error_body, api_key),
    ]


__all__ = ["error_body", "routes"]
