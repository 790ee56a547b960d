"""Anthropic Message -> OpenAI chat.completion: content blocks, stop reasons and usage."""

from __future__ import annotations

import orjson

from common.chat import ChatCompletion, OutputToolCall
from gateway.providers.anthropic_request import JSON_TOOL
from gateway.providers.base import JSON
from gateway.providers.openai_shapes import (
    TokenUsage,
    assistant_message,
    completion,
    function_call,
    new_id,
)

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: object) -> str:
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def token_usage(usage: object) -> TokenUsage:
    """Anthropic counts cached input apart from `input_tokens`; OpenAI's prompt count holds all."""
    if not isinstance(usage, dict):
        return TokenUsage(0, 0)
    read = _int(usage.get("cache_read_input_tokens"))
    written = _int(usage.get("cache_creation_input_tokens"))
    prompt = _int(usage.get("input_tokens")) + read + written
    return TokenUsage(
        prompt, _int(usage.get("output_tokens")), cached=read, cache_write=written or None
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def chat_completion(message: JSON, *, json_mode: bool) -> ChatCompletion:
    texts: list[str] = []
    reasoning: list[str] = []
    thinking_blocks: list[JSON] = []
    calls: list[OutputToolCall] = []
    json_answer = False
    for block in message.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "thinking":
            reasoning.append(str(block.get("thinking", "")))
            thinking_blocks.append(block)
        elif kind == "redacted_thinking":
            thinking_blocks.append(block)
        elif kind == "tool_use" and json_mode and block.get("name") == JSON_TOOL:
            texts.append(orjson.dumps(block.get("input") or {}).decode())
            json_answer = True
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            calls.append(function_call(str(block.get("id")), str(block.get("name")), arguments))
    reply = assistant_message("".join(texts) or None, calls, "".join(reasoning) or None)
    if thinking_blocks:
        reply["thinking_blocks"] = thinking_blocks
    reason = "stop" if json_answer and not calls else finish_reason(message.get("stop_reason"))
    return completion(
        id=str(message.get("id") or new_id("chatcmpl")),
        model=str(message.get("model") or ""),
        message=reply,
        finish_reason=reason,
        usage=token_usage(message.get("usage")),
    )
