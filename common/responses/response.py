"""Response objects: the echo of the request's settings, output items from a chat completion,
usage in the Responses shape, and output items turned back into input items for history."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from common.chat import JSONObject as JSON
from common.responses.request import tool_names


def new_item_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def skeleton(request: JSON, response_id: str, model: str, created_at: int | None = None) -> JSON:
    """A response with no output yet (`status: in_progress`): what `response.created` carries
    and what the final response is built on."""
    text = request.get("text") if isinstance(request.get("text"), dict) else None
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at if created_at is not None else int(time.time()),
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": model,
        "output": [],
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": request.get("previous_response_id"),
        "reasoning": request.get("reasoning") or {"effort": None, "summary": None},
        "temperature": request.get("temperature"),
        "text": text or {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice") or "auto",
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p"),
        "truncation": request.get("truncation") or "disabled",
        "usage": None,
        "user": request.get("user"),
        "metadata": request.get("metadata") or {},
    }


def usage(chat_usage: Any) -> JSON:
    if not isinstance(chat_usage, dict):
        chat_usage = {}
    prompt = int(chat_usage.get("prompt_tokens") or 0)
    completion = int(chat_usage.get("completion_tokens") or 0)
    prompt_details = chat_usage.get("prompt_tokens_details") or {}
    completion_details = chat_usage.get("completion_tokens_details") or {}
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": int(prompt_details.get("cached_tokens") or 0),
            # LiteLLM reports Anthropic's cache writes at the top level of chat usage
            "cache_write_tokens": int(chat_usage.get("cache_creation_input_tokens") or 0),
        },
        "output_tokens": completion,
        "output_tokens_details": {
            "reasoning_tokens": int(completion_details.get("reasoning_tokens") or 0)
        },
        "total_tokens": int(chat_usage.get("total_tokens") or prompt + completion),
    }


def reasoning_item(item_id: str, text: str) -> JSON:
    return {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text}],
    }


def message_item(item_id: str, text: str, status: str = "completed") -> JSON:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def function_call_item(
    item_id: str,
    call_id: str,
    name: str,
    arguments: str,
    namespaced: Mapping[str, tuple[str, str]] | None = None,
) -> JSON:
    """A call item; a call to a namespaced tool's chat name gets the tool's own name and its
    `namespace` back (`namespaced` from `request.tool_names`)."""
    item: JSON = {
        "id": item_id,
        "type": "function_call",
        "status": "completed",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }
    if namespaced and name in namespaced:
        item["namespace"], item["name"] = namespaced[name]
    return item


def finished(base: JSON, output: list[JSON], chat_usage: Any, finish_reason: Any) -> JSON:
    """The final response: `incomplete` when the model ran out of tokens, as OpenAI reports."""
    response = {**base, "output": output, "usage": usage(chat_usage)}
    if finish_reason == "length":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    elif finish_reason == "content_filter":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "content_filter"}
    else:
        response["status"] = "completed"
    return response


def from_completion(base: JSON, completion: Mapping[str, Any]) -> JSON:
    choice = (completion.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    output: list[JSON] = []
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        output.append(reasoning_item(new_item_id("rs"), reasoning))
    if isinstance(message.get("content"), str) and message["content"]:
        output.append(message_item(new_item_id("msg"), message["content"]))
    namespaced = tool_names(base.get("tools"))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        output.append(
            function_call_item(
                new_item_id("fc"),
                str(call.get("id") or new_item_id("call")),
                str(function.get("name") or ""),
                str(function.get("arguments") or "{}"),
                namespaced,
            )
        )
    return finished(base, output, completion.get("usage"), choice.get("finish_reason"))


def history_items(output: list[JSON]) -> list[JSON]:
    """Output items as the next request's input: messages keep their text, function calls
    stay as they are, reasoning summaries (no chat provider takes them back) are left out."""
    items: list[JSON] = []
    for item in output:
        kind = item.get("type")
        if kind == "message":
            items.append(
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [
                        {"type": "output_text", "text": part.get("text", "")}
                        for part in item.get("content") or []
                        if isinstance(part, dict) and part.get("type") == "output_text"
                    ],
                }
            )
        elif kind == "function_call":
            call = {
                "type": "function_call",
                "call_id": item.get("call_id"),
                "name": item.get("name"),
                "arguments": item.get("arguments"),
            }
            if item.get("namespace") is not None:
                call["namespace"] = item["namespace"]
            items.append(call)
    return items


def chat_usage(response_usage: Any) -> JSON | None:
    """A Responses usage block in chat's shape, for the hooks (spend, limits, metrics)."""
    if not isinstance(response_usage, dict):
        return None
    prompt = int(response_usage.get("input_tokens") or 0)
    completion = int(response_usage.get("output_tokens") or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
