"""OpenAI chat.completion -> Anthropic Message, and the usage/stop-reason mappings both ways."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.providers.base import JSON
from gateway.providers.openai_shapes import new_id

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def stop_reason(finish_reason: Any) -> str:
    return (
        STOP_REASONS.get(finish_reason, "end_turn")
        if isinstance(finish_reason, str)
        else "end_turn"
    )


def anthropic_usage(usage: Any) -> JSON:
    """OpenAI's prompt count includes cached tokens; Anthropic reports them apart."""
    if not isinstance(usage, dict):
        return {"input_tokens": 0, "output_tokens": 0}
    prompt = usage.get("prompt_tokens") or 0
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    out: JSON = {
        "input_tokens": prompt - (cached or 0),
        "output_tokens": usage.get("completion_tokens") or 0,
    }
    if cached:
        out["cache_read_input_tokens"] = cached
    return out


def message_id(openai_id: Any) -> str:
    return f"msg_{openai_id}" if isinstance(openai_id, str) and openai_id else new_id("msg")


def anthropic_message(completion: JSON, model: str) -> JSON:
    choices = completion.get("choices") or [{}]
    choice = choices[0]
    message = choice.get("message") or {}
    content: list[JSON] = []
    thinking_blocks = message.get("thinking_blocks")
    if isinstance(thinking_blocks, list) and thinking_blocks:
        content.extend(b for b in thinking_blocks if isinstance(b, dict))
    elif message.get("reasoning_content"):
        content.append(
            {"type": "thinking", "thinking": message["reasoning_content"], "signature": ""}
        )
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": _input(function.get("arguments")),
            }
        )
    return {
        "id": message_id(completion.get("id")),
        "type": "message",
        "role": "assistant",
        "model": completion.get("model") or model,
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason")),
        "stop_sequence": None,
        "usage": anthropic_usage(completion.get("usage")),
    }


def _input(arguments: Any) -> Any:
    if not isinstance(arguments, str) or not arguments:
        return {}
    try:
        return orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"_raw_arguments": arguments}  # the model emitted broken JSON; keep it visible
