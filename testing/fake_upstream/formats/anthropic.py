"""The Anthropic Messages API: `POST /v1/messages`, whole or as SSE events, `x-api-key` auth.

Replies are rendered like the API reference's examples: a `message` with content blocks
(`thinking` when the request enabled it, `text`, `tool_use`), `stop_reason`, and usage with
cache counters; streams as `message_start`, `ping`, `content_block_start/delta/stop`,
`message_delta` (stop reason, output tokens), `message_stop`. Errors use Anthropic's shape and
types (`overloaded_error` is 529); a content-policy scenario is a `refusal` stop, as Claude
reports it, and an over-long prompt is the API's "prompt is too long" error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Reply, ReplyError, ToolCall, estimate_tokens
from ..state import UpstreamState
from . import Route
from .anthropic_wire import AnthropicRequest, parse
from .openai_wire import argument_pieces, text_pieces

THINKING_TEXT = "Let me think about this step by step."
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
    503: "overloaded_error",
}


def error_body(error: ReplyError) -> bytes:
    message = error.message
    if error.code == "context_length_exceeded":
        message = "prompt is too long: 9000 tokens > 8192 maximum"
    kind = _ERROR_TYPES.get(error.status, "api_error")
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})


def api_key(exchange: Exchange) -> str | None:
    value = exchange.header(b"x-api-key")
    return value.decode("latin-1") if value is not None else None


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return (
        b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **payload}) + b"\n\n"
    )


def _tool_id(call: ToolCall) -> str:
    return "toolu_" + call.id.removeprefix("call_")


class MessageRenderer:
    def __init__(self, message_id: str, model: str, thinking: bool) -> None:
        self._id = message_id
        self._model = model
        self._thinking = thinking

    def _usage(self, reply: Reply) -> dict[str, int]:
        return {
            "input_tokens": reply.usage.prompt_tokens,
            "output_tokens": reply.usage.completion_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }

    def _stop_reason(self, reply: Reply) -> str:
        return _STOP_REASONS.get(reply.finish_reason, reply.finish_reason)

    def _message(
        self, reply: Reply, content: list[dict[str, Any]], stop: str | None
    ) -> dict[str, Any]:
        return {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": self._usage(reply),
        }

    def body(self, reply: Reply) -> bytes:
        content: list[dict[str, Any]] = []
        if self._thinking:
            content.append({"type": "thinking", "thinking": THINKING_TEXT, "signature": "sig-fake"})
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for call in reply.tool_calls:
            arguments = orjson.loads(call.arguments or "{}")
            content.append(
                {"type": "tool_use", "id": _tool_id(call), "name": call.name, "input": arguments}
            )
        return orjson.dumps(self._message(reply, content, self._stop_reason(reply)))

    def frames(self, reply: Reply) -> Iterator[bytes]:
        start = self._message(reply, [], None)
        start["usage"] = {**start["usage"], "output_tokens": 1}
        yield _event("message_start", {"message": start})
        yield _event("ping", {})
        index = 0
        if self._thinking:
            yield _event(
                "content_block_start",
                {
                    "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            )
            yield _event(
                "content_block_delta",
                {"index": index, "delta": {"type": "thinking_delta", "thinking": THINKING_TEXT}},
            )
            yield _event(
                "content_block_delta",
                {"index": index, "delta": {"type": "signature_delta", "signature": "sig-fake"}},
            )
            yield _event("content_block_stop", {"index": index})
            index += 1
        if reply.text:
            yield _event(
                "content_block_start",
                {"index": index, "content_block": {"type": "text", "text": ""}},
            )
            for piece in text_pieces(reply.text):
                yield _event(
                    "content_block_delta",
                    {"index": index, "delta": {"type": "text_delta", "text": piece}},
                )
            yield _event("content_block_stop", {"index": index})
            index += 1
        for call in reply.tool_calls:
            block = {"type": "tool_use", "id": _tool_id(call), "name": call.name, "input": {}}
            yield _event("content_block_start", {"index": index, "content_block": block})
            for piece in argument_pieces(call.arguments):
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield _event("content_block_delta", {"index": index, "delta": delta})
            yield _event("content_block_stop", {"index": index})
            index += 1
        stop: dict[str, Any] = {"stop_reason": self._stop_reason(reply), "stop_sequence": None}
        yield _event(
            "message_delta",
            {"delta": stop, "usage": {"output_tokens": reply.usage.completion_tokens}},
        )
        yield _event("message_stop", {})

    def error_body(self, error: ReplyError) -> bytes:
        return error_body(error)

    def malformed_body(self) -> bytes:
        return b'{"id": "' + self._id.encode() + b'", "type": "message", "content": [{'

    def malformed_frame(self) -> bytes:
        return (
            b'event: content_block_delta\ndata: {"type": "content_block_delta", "delta": {"te\n\n'
        )


async def messages(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    parsed = parse(body, exchange.header(b"anthropic-version"), exchange.header(b"anthropic-beta"))
    await answer(state, exchange, parsed)


async def answer(
    state: UpstreamState, exchange: Exchange, parsed: AnthropicRequest | ReplyError
) -> None:
    """Answer a parsed Messages request (also Claude on Vertex, which parses its own way)."""
    if isinstance(parsed, ReplyError):
        await exchange.respond(parsed.status, error_body(parsed), headers=parsed.headers)
        return
    request: AnthropicRequest = parsed
    reply = state.scenario.plan(request.prompt)
    if reply.error is not None and reply.error.code == "content_policy_violation":
        # Claude declines inside a normal answer: stop_reason "refusal", no error status.
        reply = Reply(text=None, usage=reply.usage, finish_reason="refusal", timing=reply.timing)
    renderer = MessageRenderer(state.ids.next("msg"), request.prompt.model, request.thinking)
    await deliver(exchange, reply, renderer, stream=request.prompt.stream)


# `count_tokens` takes the prompt fields only; generation settings are refused by name.
_NOT_COUNTED = frozenset(
    {"max_tokens", "stream", "stop_sequences", "temperature", "top_p", "top_k", "metadata"}
)


async def count_tokens(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    """`POST /v1/messages/count_tokens`: the same checks as `/v1/messages`, and the fake's
    own count (four characters a token) of the system prompt and messages."""
    if isinstance(body, dict):
        for key in body:
            if key in _NOT_COUNTED:
                error = ReplyError(
                    400, f"{key}: Extra inputs are not permitted", "invalid_request_error"
                )
                await exchange.respond(400, error_body(error))
                return
        body = {**body, "max_tokens": 1_000_000}
    parsed = parse(body, exchange.header(b"anthropic-version"), exchange.header(b"anthropic-beta"))
    if isinstance(parsed, ReplyError):
        await exchange.respond(parsed.status, error_body(parsed), headers=parsed.headers)
        return
    tokens = estimate_tokens(parsed.prompt.prompt_chars)
    await exchange.respond(200, orjson.dumps({"input_tokens": tokens}))


def routes() -> list[Route]:
    return [
        Route("POST", "/messages", messages, error_body, key_from=api_key),
        Route("POST", "/messages/count_tokens", count_tokens, error_body, key_from=api_key),
    ]


__all__ = ["answer", "error_body", "routes"]
