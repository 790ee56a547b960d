"""Bedrock Converse response -> OpenAI chat.completion: content blocks, stop reasons, usage."""

from __future__ import annotations

import orjson

from common.chat import ChatCompletion, OutputToolCall
from gateway.providers.base import JSON
from gateway.providers.bedrock_request import JSON_TOOL
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
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}


def finish_reason(stop_reason: object) -> str:
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def token_usage(usage: object) -> TokenUsage:
    """Bedrock counts cache reads and writes apart from `inputTokens`, as Anthropic does;
    OpenAI's prompt count holds them all."""
    if not isinstance(usage, dict):
        return TokenUsage(0, 0)
    read = _int(usage.get("cacheReadInputTokens"))
    written = _int(usage.get("cacheWriteInputTokens"))
    prompt = _int(usage.get("inputTokens")) + read + written
    return TokenUsage(
        prompt,
        _int(usage.get("outputTokens")),
        cached=read if "cacheReadInputTokens" in usage else None,
        cache_write=written or None,
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def chat_completion(response: JSON, model: str, *, json_mode: bool) -> ChatCompletion:
    message = (response.get("output") or {}).get("message") or {}
    texts: list[str] = []
    reasoning: list[str] = []
    thinking_blocks: list[JSON] = []
    calls: list[OutputToolCall] = []
    json_answer = False
    for block in message.get("content") or []:
        if "text" in block:
            texts.append(str(block["text"]))
        elif "reasoningContent" in block:
            thought = (block["reasoningContent"] or {}).get("reasoningText") or {}
            reasoning.append(str(thought.get("text", "")))
            thinking_blocks.append(
                {
                    "type": "thinking",
                    "thinking": str(thought.get("text", "")),
                    "signature": thought.get("signature"),
                }
            )
        elif "toolUse" in block:
            use = block["toolUse"]
            arguments = orjson.dumps(use.get("input") or {}).decode()
            if json_mode and use.get("name") == JSON_TOOL:
                texts.append(arguments)
                json_answer = True
            else:
                calls.append(function_call(str(use["toolUseId"]), str(use["name"]), arguments))
    reply = assistant_message("".join(texts) or None, calls, "".join(reasoning) or None)
    if thinking_blocks:
        reply["thinking_blocks"] = thinking_blocks
    reason = "stop" if json_answer and not calls else finish_reason(response.get("stopReason"))
    return completion(
        id=new_id("chatcmpl"),
        model=model,
        message=reply,
        finish_reason=reason,
        usage=token_usage(response.get("usage")),
    )
