"""Ollama's native API: `POST /api/chat` (tools, `images`, NDJSON streaming, which is the
default unless `"stream": false`) and `POST /api/embed`.

Shapes follow Ollama's API docs: a chat answer is `{"model", "created_at", "message": {...},
"done": true, "done_reason", "prompt_eval_count", "eval_count", ...durations}`; tool call
arguments are JSON objects, never strings (a string is refused as Ollama's Go decoder does);
images are bare base64 strings; errors are `{"error": "..."}`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from .. import embeddings
from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Prompt, Reply, ReplyError, estimate_tokens
from ..state import UpstreamState
from . import Route
from .openai_wire import text_pieces

NDJSON = b"application/x-ndjson"
THINKING_TEXT = "Thinking it over."
_ROLES = frozenset({"system", "user", "assistant", "tool"})


def error_body(error: ReplyError) -> bytes:
    return orjson.dumps({"error": error.message})


def _invalid(message: str) -> ReplyError:
    return ReplyError(400, message, "invalid_request_error")


def _check_message(i: int, message: Any) -> str | None:
    if not isinstance(message, dict) or message.get("role") not in _ROLES:
        return f"messages[{i}]: invalid role"
    if not isinstance(message.get("content", ""), str):
        return (
            f"json: cannot unmarshal array into Go struct field Message.messages.content "
            f"of type string (messages[{i}])"
        )
    for image in message.get("images") or []:
        try:
            base64.b64decode(image, validate=True)
        except (binascii.Error, ValueError, TypeError):
            return f"illegal base64 data in messages[{i}].images"
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("arguments"), dict):
            return (
                "json: cannot unmarshal string into Go struct field "
                "ToolCallFunction.messages.tool_calls.function.arguments of type "
                "api.ToolCallFunctionArguments"
            )
    return None


def parse_chat(body: Any) -> tuple[Prompt, bool] | ReplyError:
    if not isinstance(body, dict):
        return _invalid("invalid JSON body")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _invalid("model is required")
    messages = body.get("messages")
    if not isinstance(messages, list):
        return _invalid("messages is required")
    last_user = ""
    chars = 0
    for i, message in enumerate(messages):
        problem = _check_message(i, message)
        if problem:
            return _invalid(problem)
        chars += len(message.get("content", ""))
        if message["role"] == "user":
            last_user = message.get("content", "")
    names = tuple(
        t["function"]["name"]
        for t in body.get("tools") or []
        if isinstance(t, dict) and isinstance(t.get("function"), dict) and "name" in t["function"]
    )
    options = body.get("options")
    if options is not None and not isinstance(options, dict):
        return _invalid("options must be an object")
    stream = body.get("stream", True) is not False
    return Prompt(model, last_user, names, chars, stream, stream), bool(body.get("think"))


class ChatRenderer:
    def __init__(self, model: str, thinking: bool) -> None:
        self._model = model
        self._thinking = thinking

    def _line(self, message: dict[str, Any], done: bool, reply: Reply | None = None) -> bytes:
        payload: dict[str, Any] = {
            "model": self._model,
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "message": {"role": "assistant", "content": "", **message},
            "done": done,
        }
        if done and reply is not None:
            payload.update(
                {
                    "done_reason": "length" if reply.finish_reason == "length" else "stop",
                    "total_duration": 1_000_000,
                    "load_duration": 100_000,
                    "prompt_eval_count": reply.usage.prompt_tokens,
                    "prompt_eval_duration": 200_000,
                    "eval_count": reply.usage.completion_tokens,
                    "eval_duration": 700_000,
                }
            )
        return orjson.dumps(payload)

    @staticmethod
    def _calls(reply: Reply) -> list[dict[str, Any]]:
        return [
            {"function": {"name": c.name, "arguments": orjson.loads(c.arguments or "{}")}}
            for c in reply.tool_calls
        ]

    def body(self, reply: Reply) -> bytes:
        message: dict[str, Any] = {"content": reply.text or ""}
        if self._thinking:
            message["thinking"] = THINKING_TEXT
        if reply.tool_calls:
            message["tool_calls"] = self._calls(reply)
        return self._line(message, True, reply)

    def frames(self, reply: Reply) -> Iterator[bytes]:
        if self._thinking:
            yield self._line({"thinking": THINKING_TEXT}, False) + b"\n"
        for piece in text_pieces(reply.text or ""):
            yield self._line({"content": piece}, False) + b"\n"
        if reply.tool_calls:
            yield self._line({"tool_calls": self._calls(reply)}, False) + b"\n"
        yield self._line({}, True, reply) + b"\n"

    def error_body(self, error: ReplyError) -> bytes:
        return error_body(error)

    def malformed_body(self) -> bytes:
        return b'{"model": "' + self._model.encode() + b'", "message": {"cont'

    def malformed_frame(self) -> bytes:
        return b'{"model": "x", "message": {"content": "unterm\n'


async def _reject(exchange: Exchange, error: ReplyError) -> None:
    await exchange.respond(error.status, error_body(error), headers=error.headers)


async def chat(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    parsed = parse_chat(body)
    if isinstance(parsed, ReplyError):
        await _reject(exchange, parsed)
        return
    prompt, thinking = parsed
    reply = state.scenario.plan(prompt)
    renderer = ChatRenderer(prompt.model, thinking)
    await deliver(exchange, reply, renderer, stream=prompt.stream, stream_content_type=NDJSON)


async def embed(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        await _reject(exchange, _invalid("model is required"))
        return
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        await _reject(exchange, _invalid("invalid input type"))
        return
    behaviour = state.scenario.behaviour(body["model"])
    if behaviour.error is not None:
        await _reject(exchange, behaviour.error)
        return
    dimensions = body.get("dimensions") or 768
    payload = {
        "model": body["model"],
        "embeddings": [embeddings.vector(t, dimensions) for t in texts],
        "total_duration": 1_000_000,
        "load_duration": 100_000,
        "prompt_eval_count": sum(estimate_tokens(len(t)) for t in texts),
    }
    await exchange.respond(200, orjson.dumps(payload))


def routes() -> list[Route]:
    return [
        # Ollama has no authentication of its own.
        Route("POST", "/api/chat", chat, error_body, authenticated=False),
        Route("POST", "/api/embed", embed, error_body, authenticated=False),
    ]


__all__ = ["routes"]
