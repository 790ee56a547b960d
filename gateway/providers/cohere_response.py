"""Cohere Chat v2 response -> OpenAI completion, and its stream events -> OpenAI chunks.

The reply's `content` holds `text` (and `thinking`, for reasoning models) blocks; `tool_plan`
(the model's reflection before calling tools) is reasoning too. Usage prefers `tokens` (what
the model processed) over `billed_units`. A generation that ended in `ERROR` or `TIMEOUT`
is raised as an upstream error, since no usable answer came back.

Stream events: `message-start`, `content-start/delta/end`, `tool-plan-delta`,
`tool-call-start/delta/end` (the start carries the id, name and first arguments), citation
events (ignored), and `message-end` with the finish reason and usage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from common.chat import ChatCompletion, ChatCompletionChunk, OutputToolCall
from gateway import errors
from gateway.providers.base import JSON
from gateway.providers.openai_shapes import (
    ChunkWriter,
    TokenUsage,
    assistant_message,
    completion,
    function_call,
    new_id,
    new_tool_call_id,
)

NAME = "cohere"
_FINISH = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
    "CONTENT_BLOCKED": "content_filter",
}


def finish_reason(reason: object, error: object = None) -> str:
    """The OpenAI finish reason; raises for the endings that carry no usable answer."""
    name = reason.upper() if isinstance(reason, str) else "COMPLETE"
    if name in ("ERROR", "ERROR_LIMIT"):
        detail = f": {error}" if error else ""
        raise errors.BadGatewayError(f"cohere error: the generation failed{detail}", provider=NAME)
    if name == "TIMEOUT":
        raise errors.RequestTimeoutError("cohere error: the generation timed out", provider=NAME)
    return _FINISH.get(name, "stop")


def token_usage(usage: object) -> TokenUsage:
    if not isinstance(usage, dict):
        return TokenUsage(0, 0)
    counts = usage.get("tokens")
    if not isinstance(counts, dict):
        counts = usage.get("billed_units")
    counts = counts if isinstance(counts, dict) else {}
    cached = usage.get("cached_tokens")
    return TokenUsage(
        _int(counts.get("input_tokens")),
        _int(counts.get("output_tokens")),
        cached=_int(cached) if cached is not None else None,
    )


def _int(value: object) -> int:
    # Cohere documents its counts as numbers and sends them as JSON numbers, sometimes `12.0`
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _calls(raw: object) -> list[OutputToolCall]:
    calls: list[OutputToolCall] = []
    for call in raw if isinstance(raw, list) else []:
        function = call.get("function") or {}
        calls.append(
            function_call(
                str(call.get("id") or new_tool_call_id()),
                str(function.get("name")),
                str(function.get("arguments") or "{}"),
            )
        )
    return calls


def chat_completion(response: JSON, model: str) -> ChatCompletion:
    message = response.get("message") or {}
    texts: list[str] = []
    thoughts: list[str] = []
    if message.get("tool_plan"):
        thoughts.append(str(message["tool_plan"]))
    for block in message.get("content") or []:
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "thinking":
            thoughts.append(str(block.get("thinking", "")))
    calls = _calls(message.get("tool_calls"))
    reason = finish_reason(response.get("finish_reason"))
    return completion(
        id=str(response.get("id") or new_id("chatcmpl")),
        model=model,
        message=assistant_message("".join(texts) or None, calls, "\n".join(thoughts) or None),
        finish_reason="tool_calls" if calls else reason,
        usage=token_usage(response.get("usage")),
    )


@dataclass
class CohereChunks:
    model: str
    writer: ChunkWriter | None = None
    finished: bool = False
    # Cohere's tool call index -> OpenAI's (dense, in order of appearance)
    _tool_index: dict[int, int] = field(default_factory=dict)

    def _writer(self, id: object = None) -> ChunkWriter:
        if self.writer is None:
            self.writer = ChunkWriter.start(self.model, str(id) if id else None)
        return self.writer

    def feed(self, event: JSON) -> Iterator[ChatCompletionChunk]:
        kind = event.get("type")
        if kind == "message-start":
            yield self._writer(event.get("id")).role()
            return
        writer = self._writer()
        message = (event.get("delta") or {}).get("message") or {}
        if kind == "content-delta":
            content = message.get("content") or {}
            if content.get("thinking"):
                yield writer.reasoning(str(content["thinking"]))
            if content.get("text"):
                yield writer.text(str(content["text"]))
        elif kind == "tool-plan-delta":
            if message.get("tool_plan"):
                yield writer.reasoning(str(message["tool_plan"]))
        elif kind == "tool-call-start":
            call = message.get("tool_calls") or {}
            function = call.get("function") or {}
            position = self._tool_index.setdefault(
                int(event.get("index", len(self._tool_index))), len(self._tool_index)
            )
            yield writer.tool_call_start(
                position,
                str(call.get("id") or new_tool_call_id()),
                str(function.get("name")),
                str(function.get("arguments") or ""),
            )
        elif kind == "tool-call-delta":
            arguments = ((message.get("tool_calls") or {}).get("function") or {}).get("arguments")
            known = self._tool_index.get(int(event.get("index", 0)))
            if arguments and known is not None:
                yield writer.tool_call_arguments(known, str(arguments))
        elif kind == "message-end":
            delta = event.get("delta") or {}
            reason = finish_reason(delta.get("finish_reason"), delta.get("error"))
            self.finished = True
            yield writer.finish("tool_calls" if self._tool_index else reason)
            yield writer.usage(token_usage(delta.get("usage")))
