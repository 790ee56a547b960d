"""Check a Cohere Chat v2 request the way the API does, and reduce it to a neutral `Prompt`.

Unknown fields, roles and content blocks are refused; every tool call an assistant message
makes must be answered by a `tool` message (matching `tool_call_id`) before the conversation
goes on; tools are `{"type": "function", "function": {name, parameters, description?}}`;
`tool_choice` is `REQUIRED` or `NONE`; sampling parameters keep Cohere's ranges.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..reply import Prompt, ReplyError

_FIELDS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "tools",
        "strict_tools",
        "documents",
        "citation_options",
        "response_format",
        "safety_mode",
        "max_tokens",
        "stop_sequences",
        "temperature",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "k",
        "p",
        "logprobs",
        "tool_choice",
        "thinking",
        "priority",
    }
)
_RANGES = {
    "temperature": (0.0, 5.0),
    "p": (0.01, 0.99),
    "k": (0, 500),
    "frequency_penalty": (0.0, 1.0),
    "presence_penalty": (0.0, 1.0),
}


def invalid(message: str) -> ReplyError:
    return ReplyError(400, f"invalid request: {message}", "invalid_request_error")


def _text(content: Any, where: str, allowed: tuple[str, ...]) -> tuple[str, int] | ReplyError:
    """The text of a string or a list of blocks, and its length; images count a little."""
    if isinstance(content, str):
        return content, len(content)
    if not isinstance(content, list):
        return invalid(f"{where}.content must be a string or a list of content blocks")
    texts: list[str] = []
    chars = 0
    for index, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in allowed:
            return invalid(f"{where}.content[{index}]: unsupported content type {kind!r}")
        if kind == "text":
            if not isinstance(block.get("text"), str):
                return invalid(f"{where}.content[{index}].text must be a string")
            texts.append(block["text"])
            chars += len(block["text"])
        elif kind == "image_url":
            url = (block.get("image_url") or {}).get("url")
            if not isinstance(url, str) or not url:
                return invalid(f"{where}.content[{index}].image_url.url is required")
            chars += 100
        elif kind == "document":
            chars += len(orjson.dumps(block.get("document")))
    return "".join(texts), chars


def _assistant(message: dict[str, Any], where: str, open_calls: set[str]) -> int | ReplyError:
    calls = message.get("tool_calls")
    content = message.get("content")
    if not calls and not content:
        return invalid(f"{where}: an assistant message needs content or tool_calls")
    chars = len(str(message.get("tool_plan") or ""))
    if content:
        checked = _text(content, where, ("text", "thinking"))
        if isinstance(checked, ReplyError):
            return checked
        chars += checked[1]
    for index, call in enumerate(calls or []):
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(call.get("id"), str)
            or call.get("type") != "function"
            or not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
        ):
            return invalid(f"{where}.tool_calls[{index}] needs an id, type function and a name")
        arguments = function.get("arguments")
        try:
            if not isinstance(arguments, str) or not isinstance(orjson.loads(arguments), dict):
                raise ValueError("not an object")
        except ValueError:
            return invalid(f"{where}.tool_calls[{index}].function.arguments must be JSON text")
        open_calls.add(call["id"])
        chars += len(function["name"]) + len(arguments)
    return chars


def _messages(messages: Any) -> tuple[str, int] | ReplyError:
    if not isinstance(messages, list) or not messages:
        return invalid("messages must be a non-empty list")
    last_user = ""
    chars = 0
    open_calls: set[str] = set()
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role != "tool" and open_calls:
            return invalid(f"{where}: tool calls {sorted(open_calls)} were not answered")
        if role in ("system", "user"):
            allowed = ("text",) if role == "system" else ("text", "image_url")
            checked = _text(message.get("content"), where, allowed)
            if isinstance(checked, ReplyError):
                return checked
            if role == "user":
                last_user = checked[0]
            chars += checked[1]
        elif role == "assistant":
            counted = _assistant(message, where, open_calls)
            if isinstance(counted, ReplyError):
                return counted
            chars += counted
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in open_calls:
                return invalid(f"{where}: tool_call_id {call_id!r} answers no open tool call")
            open_calls.discard(call_id)
            checked = _text(message.get("content"), where, ("text", "document"))
            if isinstance(checked, ReplyError):
                return checked
            chars += checked[1]
        else:
            return invalid(f"{where}: unknown role {role!r}")
    if open_calls:
        return invalid(f"tool calls {sorted(open_calls)} were not answered")
    return last_user, chars


def _tools(tools: Any, choice: Any) -> tuple[str, ...] | ReplyError:
    if tools is None:
        tools = []
    if not isinstance(tools, list):
        return invalid("tools must be a list")
    names: list[str] = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(function, dict):
            return invalid(f"tools[{index}] must be {{'type': 'function', 'function': {{...}}}}")
        name = function.get("name")
        if not isinstance(name, str) or not name or name in names:
            return invalid(f"tools[{index}].function.name must be a unique non-empty string")
        if not isinstance(function.get("parameters"), dict):
            return invalid(f"tools[{index}].function.parameters is required (a JSON schema)")
        names.append(name)
    if choice is not None:
        if choice not in ("REQUIRED", "NONE"):
            return invalid(f"tool_choice must be REQUIRED or NONE, not {choice!r}")
        if choice == "REQUIRED" and not names:
            return invalid("tool_choice REQUIRED needs tools")
        if choice == "NONE":
            return ()
    return tuple(names)


def _ranges(body: dict[str, Any]) -> ReplyError | None:
    for name, (low, high) in _RANGES.items():
        value = body.get(name)
        if value is not None and not (
            isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        ):
            return invalid(f"{name} must be between {low} and {high}")
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        return invalid("max_tokens must be a positive integer")
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or len(stops) > 5 or not all(isinstance(s, str) for s in stops)
    ):
        return invalid("stop_sequences must be a list of at most 5 strings")
    response_format = body.get("response_format")
    if response_format is not None and (
        not isinstance(response_format, dict)
        or response_format.get("type") not in ("text", "json_object")
    ):
        return invalid("response_format.type must be text or json_object")
    return None


def parse(body: Any) -> Prompt | ReplyError:
    if not isinstance(body, dict):
        return invalid("the body must be a JSON object")
    for key in body:
        if key not in _FIELDS:
            return invalid(f"unknown field: parameter {key} is not a valid field")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return invalid("model is required")
    checked = _messages(body.get("messages"))
    if isinstance(checked, ReplyError):
        return checked
    names = _tools(body.get("tools"), body.get("tool_choice"))
    if isinstance(names, ReplyError):
        return names
    problem = _ranges(body)
    if problem is not None:
        return problem
    stream = body.get("stream") is True
    last_user, chars = checked
    return Prompt(model, last_user, names, chars, stream, stream)
