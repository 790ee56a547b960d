"""Anthropic Messages request -> OpenAI chat request, for any backend in `model_list`.

`tool_result` blocks become `tool` messages placed right after the assistant turn that asked
for them; the rest of that user turn follows as a user message. Thinking budgets and
`output_config.effort` are expressed as OpenAI's `reasoning_effort`; system-role messages were
lifted into `system` before (see `compat.normalize`).
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.anthropic_api.compat import reasoning_effort, response_format
from gateway.errors import BadRequestError
from gateway.providers.base import JSON

DEFAULT_MAX_TOKENS = 4096


def chat_request(native: JSON) -> JSON:
    messages = native.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequestError("messages: field required (a non-empty list)", param="messages")
    out: JSON = {"model": native.get("model"), "messages": []}
    system = _system_text(native.get("system"))
    if system:
        out["messages"].append({"role": "system", "content": system})
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise BadRequestError(
                f"messages.{i}.role: must be 'user' or 'assistant'", param=f"messages.{i}"
            )
        if message["role"] == "user":
            out["messages"].extend(_user_messages(message.get("content"), i))
        else:
            out["messages"].append(_assistant_message(message.get("content")))
    out["max_tokens"] = native.get("max_tokens") or DEFAULT_MAX_TOKENS
    for name in ("temperature", "top_p", "top_k"):
        if native.get(name) is not None:
            out[name] = native[name]
    if native.get("stop_sequences"):
        out["stop"] = native["stop_sequences"]
    metadata = native.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        out["user"] = metadata["user_id"]
    if native.get("tools"):
        tools = [_tool(t) for t in native["tools"] if _is_custom_tool(t)]
        if tools:
            out["tools"] = tools
    _tool_choice(native.get("tool_choice"), out)
    effort = reasoning_effort(native)
    if effort is not None:
        out["reasoning_effort"] = effort
    fmt = response_format(native)
    if fmt is not None:
        out["response_format"] = fmt
    if native.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def _system_text(system: Any) -> str:
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n\n".join(
            str(b.get("text", ""))
            for b in system
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def _blocks(content: Any) -> list[JSON]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, dict)]
    return []


def _user_messages(content: Any, index: int) -> list[JSON]:
    tool_messages: list[JSON] = []
    parts: list[JSON] = []
    for block in _blocks(content):
        kind = block.get("type")
        if kind == "tool_result":
            tool_messages.append(
                {
                    "role": "tool",
                    "tool_call_id": block.get("tool_use_id"),
                    "content": _tool_result_text(block),
                }
            )
        elif kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(block, index)}})
        # Other blocks (documents, server tool results) have no OpenAI form; `untranslatable`
        # names them, and the route refuses them unless the request goes to anthropic/.
    messages = tool_messages
    if parts:
        only_text = all(p["type"] == "text" for p in parts)
        joined = "".join(p["text"] for p in parts) if only_text else parts
        messages.append({"role": "user", "content": joined})
    return messages


def _tool_result_text(block: JSON) -> str:
    content = block.get("content")
    if isinstance(content, list):
        text = "".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    else:
        text = str(content) if content is not None else ""
    return f"Error: {text}" if block.get("is_error") else text


def _image_url(block: JSON, index: int) -> str:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        return f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    if source.get("type") == "url" and isinstance(source.get("url"), str):
        return str(source["url"])
    raise BadRequestError(
        f"messages.{index}: image source must be base64 or url", param=f"messages.{index}"
    )


def _assistant_message(content: Any) -> JSON:
    texts: list[str] = []
    reasoning: list[str] = []
    thinking_blocks: list[JSON] = []
    calls: list[JSON] = []
    for block in _blocks(content):
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
        elif kind in ("thinking", "redacted_thinking"):
            reasoning.append(str(block.get("thinking", "")))
            thinking_blocks.append(block)
    message: JSON = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        message["tool_calls"] = calls
    if thinking_blocks:
        # Kept for an anthropic/ backend, which must receive signed thinking blocks back.
        message["thinking_blocks"] = thinking_blocks
    return message


def _is_custom_tool(tool: Any) -> bool:
    """Server tools (web search, code execution...) have a `type` and no `input_schema`."""
    return not (isinstance(tool, dict) and "input_schema" not in tool and "type" in tool)


def _tool(tool: Any) -> JSON:
    if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
        raise BadRequestError("tools: each tool needs a name and an input_schema", param="tools")
    function: JSON = {"name": tool["name"], "parameters": tool.get("input_schema") or {}}
    if tool.get("description"):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _tool_choice(choice: Any, out: JSON) -> None:
    if not isinstance(choice, dict):
        return
    kind = choice.get("type")
    if kind == "auto":
        out["tool_choice"] = "auto"
    elif kind == "any":
        out["tool_choice"] = "required"
    elif kind == "none":
        out["tool_choice"] = "none"
    elif kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    if choice.get("disable_parallel_tool_use") and out.get("tools"):
        out["parallel_tool_calls"] = False


_USER_KINDS = frozenset({"text", "image", "tool_result"})
_ASSISTANT_KINDS = frozenset({"text", "tool_use", "thinking", "redacted_thinking"})


def untranslatable(native: JSON) -> list[str]:
    """What in an Anthropic request has no OpenAI form: server tools and content blocks such
    as `document`. Only an anthropic/ deployment can take such a request."""
    found: list[str] = []
    for tool in native.get("tools") or []:
        if not _is_custom_tool(tool):
            found.append(f"server tool {tool.get('type')!r}")
    for message in native.get("messages") or []:
        if not isinstance(message, dict):
            continue
        allowed = _USER_KINDS if message.get("role") == "user" else _ASSISTANT_KINDS
        for block in _blocks(message.get("content")):
            if block.get("type") not in allowed:
                found.append(f"{block.get('type')!r} content blocks")
    return sorted(set(found))
