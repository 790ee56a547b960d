"""A Responses API request -> an OpenAI chat request (the gateway's translated route and the
middleware's tool loop both use it).

Input items become chat messages in order: `developer`/`system` roles become system messages,
consecutive `function_call` items one assistant turn with `tool_calls` (joined to the assistant
text right before them), each `function_call_output` a `tool` message. `instructions` is the
first system message. `reasoning` items carry no text a chat provider could take back; they
are left out. Hosted tools (web search, file search, ...) exist only on OpenAI's servers and
are refused with a clear 400, or dropped where the caller says so (the middleware, whose own
tools take their place, and the gateway under `drop_params`).

A `namespace` tool (Codex sends its sub-agent tools as one) is a group of function tools: each
becomes a chat function named `<namespace>__<name>` (`tool_names`), and a call to that name
goes back as a `function_call` with the tool's own `name` and its `namespace`.

Errors are `ResponsesBodyError`s (message, param, code); each service maps them to its own
error type at its boundary.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

from common.chat import JSONObject as JSON

# Responses fields with a chat meaning, read below.
TRANSLATED_FIELDS = frozenset(
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
        "stream_options",
        # handled by the gateway itself
        "store",
        "previous_response_id",
        "metadata",
        "include",
        "truncation",
        "service_tier",
        "prompt_cache_key",
        "safety_identifier",
        # the gateway's own controls (LiteLLM's), kept on the chat body for the hooks
        "cache",
        "tags",
        "fallbacks",
        "num_retries",
        "timeout",
    }
)
GATEWAY_CONTROLS = ("cache", "tags", "fallbacks", "num_retries", "timeout", "metadata")
HostedTools = Literal["refuse", "drop"]
_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
_TEXT_PARTS = frozenset({"input_text", "output_text", "text", "refusal"})


class ResponsesBodyError(ValueError):
    """A Responses body no chat translation can take; `param` names the field."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def input_items(value: Any) -> list[JSON]:
    """`input` as a list of items (a string is one user message)."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return list(value)
    raise ResponsesBodyError(
        "input: must be a string or a list of input items", param="input", code="invalid_input"
    )


def chat_request(request: JSON, items: list[JSON], *, hosted_tools: HostedTools = "refuse") -> JSON:
    """The chat body for `request`, whose whole conversation (stored history included) is
    `items`. Tools other than functions are refused, or left out with `hosted_tools="drop"`."""
    messages: list[JSON] = []
    instructions = request.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    for i, item in enumerate(items):
        _add_item(messages, item, i)
    if not messages:
        raise ResponsesBodyError("input: at least one input item is required", param="input")
    out: JSON = {"model": request.get("model"), "messages": messages}
    tools: list[JSON] = []
    for k, t in enumerate(request.get("tools") or []):
        if _is_namespace(t):
            tools += _namespace_tools(t, k)
        elif hosted_tools == "refuse" or is_function_tool(t):
            tools.append(_tool(t, k))
    if tools:
        out["tools"] = tools
    choice = _tool_choice(request.get("tool_choice"))
    if choice is not None:
        out["tool_choice"] = choice
    for name in ("temperature", "top_p", "user", "parallel_tool_calls", *GATEWAY_CONTROLS):
        if request.get(name) is not None:
            out[name] = request[name]
    if request.get("max_output_tokens") is not None:
        out["max_tokens"] = request["max_output_tokens"]
    reasoning = request.get("reasoning")
    if isinstance(reasoning, dict) and isinstance(reasoning.get("effort"), str):
        out["reasoning_effort"] = reasoning["effort"]
    fmt = response_format(request.get("text"))
    if fmt is not None:
        out["response_format"] = fmt
    if request.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def response_format(text: Any) -> JSON | None:
    if text is None:
        return None
    fmt = text.get("format") if isinstance(text, dict) else None
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema" and isinstance(fmt, dict) and isinstance(fmt.get("schema"), dict):
        schema: JSON = {"name": fmt.get("name") or "output", "schema": fmt["schema"]}
        for key in ("strict", "description"):
            if fmt.get(key) is not None:
                schema[key] = fmt[key]
        return {"type": "json_schema", "json_schema": schema}
    raise ResponsesBodyError(
        "text.format: must be {'type': 'text'}, {'type': 'json_object'} or "
        "{'type': 'json_schema', 'name': ..., 'schema': {...}}",
        param="text.format",
    )


def _add_item(messages: list[JSON], item: JSON, index: int) -> None:
    kind = item.get("type", "message")
    where = f"input[{index}]"
    if kind == "message":
        role = _ROLES.get(str(item.get("role")))
        if role is None:
            raise ResponsesBodyError(
                f"{where}.role: must be user, assistant, system or developer", param=where
            )
        content = _content(item.get("content"), where, role)
        messages.append({"role": role, "content": content})
    elif kind == "function_call":
        name = _required_str(item, "name", where)
        namespace = item.get("namespace")
        call = {
            "id": _required_str(item, "call_id", where),
            "type": "function",
            "function": {
                "name": flat_tool_name(namespace, name) if isinstance(namespace, str) else name,
                "arguments": item.get("arguments")
                if isinstance(item.get("arguments"), str)
                else "{}",
            },
        }
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant":
            last.setdefault("tool_calls", []).append(call)
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        messages.append(
            {
                "role": "tool",
                "tool_call_id": _required_str(item, "call_id", where),
                "content": _output_text(item.get("output")),
            }
        )
    elif kind == "reasoning":
        return
    else:
        raise ResponsesBodyError(
            f"{where}.type: {kind!r} items can only be sent to openai/ and azure/ models",
            param=where,
            code="unsupported_input",
        )


def _required_str(item: JSON, name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise ResponsesBodyError(f"{where}.{name}: field required", param=f"{where}.{name}")
    return value


def _content(content: Any, where: str, role: str) -> Any:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ResponsesBodyError(f"{where}.content: must be a string or a list", param=where)
    parts: list[JSON] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS and isinstance(part, dict):
            parts.append({"type": "text", "text": str(part.get("text", part.get("refusal", "")))})
        elif kind == "input_image" and isinstance(part, dict) and part.get("image_url"):
            image: JSON = {"url": part["image_url"]}
            if part.get("detail"):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        else:
            raise ResponsesBodyError(
                f"{where}.content[{j}]: {kind!r} parts are not supported here (text and "
                "input_image with an image_url are)",
                param=f"{where}.content[{j}]",
            )
    if role != "user" or all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts if p["type"] == "text")
    return parts


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "".join(
            str(p.get("text", "")) for p in output if isinstance(p, dict) and "text" in p
        )
    return orjson.dumps(output).decode()


def is_function_tool(tool: Any) -> bool:
    return isinstance(tool, dict) and tool.get("type") == "function"


def _is_namespace(tool: Any) -> bool:
    return isinstance(tool, dict) and tool.get("type") == "namespace"


def hosted_tool_types(tools: Any) -> list[str]:
    """The types of the tools that run only on OpenAI's servers (neither function tools nor
    namespaces of them)."""
    return [
        str(tool.get("type")) if isinstance(tool, dict) else repr(tool)
        for tool in tools or []
        if not is_function_tool(tool) and not _is_namespace(tool)
    ]


def flat_tool_name(namespace: str, name: str) -> str:
    """The chat function name of tool `name` in `namespace` (`mcp__docs_` + `search` gives
    `mcp__docs__search`, the usual MCP spelling)."""
    return f"{namespace.rstrip('_')}__{name}"


def tool_names(tools: Any) -> dict[str, tuple[str, str]]:
    """Chat function name -> (namespace, name) for every tool inside a namespace."""
    names: dict[str, tuple[str, str]] = {}
    for tool in tools or []:
        if not _is_namespace(tool) or not isinstance(tool.get("name"), str):
            continue
        for inner in tool.get("tools") or []:
            if isinstance(inner, dict) and isinstance(inner.get("name"), str):
                names[flat_tool_name(tool["name"], inner["name"])] = (tool["name"], inner["name"])
    return names


def _namespace_tools(namespace: JSON, index: int) -> list[JSON]:
    where = f"tools[{index}]"
    prefix = _required_str(namespace, "name", where)
    inner = namespace.get("tools")
    if not isinstance(inner, list):
        raise ResponsesBodyError(f"{where}.tools: must be a list of function tools", param=where)
    tools = []
    for k, tool in enumerate(inner):
        if not is_function_tool(tool):
            raise ResponsesBodyError(
                f"{where}.tools[{k}]: a namespace holds function tools only",
                param=f"{where}.tools[{k}]",
            )
        chat_tool = _tool(tool, k, where=f"{where}.tools[{k}]")
        chat_tool["function"]["name"] = flat_tool_name(prefix, chat_tool["function"]["name"])
        tools.append(chat_tool)
    return tools


def _tool(tool: Any, index: int, *, where: str | None = None) -> JSON:
    where = where or f"tools[{index}]"
    if not is_function_tool(tool):
        kind = tool.get("type") if isinstance(tool, dict) else None
        raise ResponsesBodyError(
            f"{where}: {kind!r} tools run on OpenAI's servers; only openai/ and azure/ models "
            "take them (function tools work everywhere)",
            param=where,
            code="unsupported_tool",
        )
    function: JSON = {"name": _required_str(tool, "name", where)}
    function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
    if tool.get("description"):
        function["description"] = tool["description"]
    if tool.get("strict") is not None:
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _tool_choice(choice: Any) -> Any:
    if choice is None or choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and choice.get("name"):
        name = choice["name"]
        if isinstance(choice.get("namespace"), str):
            name = flat_tool_name(choice["namespace"], name)
        return {"type": "function", "function": {"name": name}}
    raise ResponsesBodyError(
        "tool_choice: must be auto, none, required or {'type': 'function', 'name': ...}",
        param="tool_choice",
    )


def untranslated_fields(request: JSON) -> list[str]:
    return sorted(key for key in request if key not in TRANSLATED_FIELDS)
