"""OpenAI chat request -> Anthropic Messages request.

System messages are hoisted into `system`; tool results become `tool_result` blocks in a user
turn right after the assistant's `tool_use` blocks; consecutive turns of one role are merged.
`response_format` is honoured the way Anthropic documents for JSON output: one forced tool whose
input schema is the requested schema (`JSON_TOOL`), turned back into text on the way out.
"""

from __future__ import annotations

from common.chat import ChatRequest, JSONObject, Message, MessageContent, Tool, ToolChoice
from gateway.errors import BadRequestError
from gateway.providers.base import JSON
from gateway.providers.images import image_url_of, parse_data_url
from gateway.providers.openai_shapes import text_of, tool_arguments
from gateway.providers.params import enforce_supported

DEFAULT_MAX_TOKENS = 4096
JSON_TOOL = "json_tool_call"

SUPPORTED = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "user",
        "thinking",
        "reasoning_effort",
        "n",
    }
)

# Thinking budgets for OpenAI's `reasoning_effort` (Anthropic's minimum budget is 1024).
CLAUDE_EFFORT_BUDGET = {"minimal": 1024, "low": 1024, "medium": 2048, "high": 4096}


def messages_request(body: ChatRequest, model: str, *, drop_params: bool) -> JSON:
    body = enforce_supported(body, SUPPORTED, provider="anthropic", drop_params=drop_params)
    if body.get("n") not in (None, 1):
        raise BadRequestError("anthropic supports only n=1", param="n")
    system, messages = _messages(body.get("messages") or [])
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or DEFAULT_MAX_TOKENS
    out: JSON = {"model": model, "max_tokens": max_tokens, "messages": messages}
    if system:
        out["system"] = system
    for name in ("temperature", "top_p", "top_k"):
        if body.get(name) is not None:
            out[name] = body[name]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if body.get("stream"):
        out["stream"] = True
    user = body.get("user")
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user}
    _thinking(body, out)
    tools = [_tool(t) for t in body.get("tools") or []]
    choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
    schema = _json_schema(body.get("response_format"))
    if schema is not None:
        tools.append({"name": JSON_TOOL, "description": "Answer in JSON.", "input_schema": schema})
        choice = {"type": "tool", "name": JSON_TOOL}
    if tools:
        out["tools"] = tools
    if choice is not None and (tools or choice["type"] == "none"):
        out["tool_choice"] = choice
    return out


def _thinking(body: ChatRequest, out: JSON) -> None:
    thinking = body.get("thinking")
    if isinstance(thinking, dict):
        out["thinking"] = thinking
        return
    effort = body.get("reasoning_effort")
    if isinstance(effort, str) and effort in CLAUDE_EFFORT_BUDGET:
        budget = CLAUDE_EFFORT_BUDGET[effort]
        out["thinking"] = {"type": "enabled", "budget_tokens": budget}
        out["max_tokens"] = max(int(out["max_tokens"]), budget + 1024)


def _json_schema(response_format: JSONObject | None) -> JSON | None:
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return schema if isinstance(schema, dict) else {"type": "object"}
    return None


def _tool(tool: Tool) -> JSON:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise BadRequestError("each tool needs a function with a name", param="tools")
    out: JSON = {
        "name": function["name"],
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        out["description"] = function["description"]
    return out


def _tool_choice(choice: ToolChoice, parallel: object) -> JSON | None:
    result: JSON | None
    if choice is None:
        result = {"type": "auto"} if parallel is False else None
    elif choice == "auto":
        result = {"type": "auto"}
    elif choice == "required":
        result = {"type": "any"}
    elif choice == "none":
        result = {"type": "none"}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        result = {"type": "tool", "name": choice["function"].get("name")}
    else:
        raise BadRequestError(f"unsupported tool_choice: {choice!r}", param="tool_choice")
    if result is not None and parallel is False and result["type"] != "none":
        result["disable_parallel_tool_use"] = True
    return result


def _messages(messages: list[Message]) -> tuple[list[JSON], list[JSON]]:
    system: list[JSON] = []
    turns: list[JSON] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_cached(message, _user_blocks(message.get("content"), text_only=True)))
        elif role == "user":
            _append(turns, "user", _cached(message, _user_blocks(message.get("content"))))
        elif role == "assistant":
            _append(turns, "assistant", _cached(message, _assistant_blocks(message)))
        elif role in ("tool", "function"):
            _append(turns, "user", _cached(message, [_tool_result(message)]))
        else:
            raise BadRequestError(f"unsupported message role {role!r}", param="messages")
    return system, turns


def _cached(message: Message, blocks: list[JSON]) -> list[JSON]:
    """LiteLLM's message-level `cache_control` marks the message's last block, as Anthropic
    prompt caching expects; part-level markers are kept by `_user_blocks`."""
    marker = message.get("cache_control")
    if isinstance(marker, dict) and blocks:
        blocks[-1] = {**blocks[-1], "cache_control": marker}
    return blocks


def _append(turns: list[JSON], role: str, blocks: list[JSON]) -> None:
    if not blocks:
        return
    if turns and turns[-1]["role"] == role:
        previous = turns[-1]["content"]
        # Tool results must lead the user turn that answers a tool_use.
        results = [b for b in blocks if b["type"] == "tool_result"]
        others = [b for b in blocks if b["type"] != "tool_result"]
        lead = [b for b in previous if b["type"] == "tool_result"]
        rest = [b for b in previous if b["type"] != "tool_result"]
        turns[-1]["content"] = [*lead, *results, *rest, *others]
        return
    turns.append({"role": role, "content": blocks})


def _user_blocks(content: MessageContent, *, text_only: bool = False) -> list[JSON]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        return []
    blocks: list[JSON] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        block: JSON | None = None
        if part.get("type") == "text":
            if part.get("text"):
                block = {"type": "text", "text": part["text"]}
        elif not text_only:
            url = image_url_of(part)
            if url is not None:
                block = _image_block(url)
        if block is None:
            continue
        if isinstance(part.get("cache_control"), dict):
            block["cache_control"] = part["cache_control"]
        blocks.append(block)
    return blocks


def _image_block(url: str) -> JSON:
    inline = parse_data_url(url)
    if inline is None:
        return {"type": "image", "source": {"type": "url", "url": url}}
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": inline.media_type, "data": inline.data},
    }


def _assistant_blocks(message: Message) -> list[JSON]:
    blocks: list[JSON] = []
    thinking = message.get("thinking_blocks")
    for block in thinking if isinstance(thinking, list) else []:
        if isinstance(block, dict) and block.get("type") in ("thinking", "redacted_thinking"):
            blocks.append(block)
    text = text_of(message.get("content"))
    if text:
        blocks.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": tool_arguments(function.get("arguments")),
            }
        )
    return blocks


def _tool_result(message: Message) -> JSON:
    content = message.get("content")
    block: JSON = {"type": "tool_result", "tool_use_id": message.get("tool_call_id")}
    if isinstance(content, list):
        block["content"] = _user_blocks(content)
    else:
        block["content"] = text_of(content)
    return block
