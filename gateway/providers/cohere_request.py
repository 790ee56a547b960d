"""OpenAI chat request -> Cohere Chat v2 request (`POST /v2/chat`).

The v2 API is close to OpenAI's: the same roles, `tool_calls` with JSON-text arguments, tool
messages answering a `tool_call_id`, and OpenAI-style tool definitions. What differs:
sampling names (`p`, `k`, `stop_sequences`), `tool_choice` (only `REQUIRED` or `NONE`; a
named function is sent as that one tool, required), and `response_format` (`json_object`
with an optional `json_schema`).
"""

from __future__ import annotations

from common.chat import ChatRequest, JSONObject, Message, MessageContent, Tool, ToolChoice
from gateway.errors import BadRequestError
from gateway.providers.base import JSON
from gateway.providers.images import image_url_of
from gateway.providers.openai_shapes import text_of
from gateway.providers.params import enforce_supported

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
        "n",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "response_format",
        "user",
    }
)

_SAMPLING = {
    "temperature": "temperature",
    "top_p": "p",
    "top_k": "k",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}


def chat_request(body: ChatRequest, model: str, *, drop_params: bool) -> JSON:
    """`user` (an end-user id for abuse monitoring) has no Cohere field and is left out;
    `stream_options` is the gateway's business (it always reports usage)."""
    body = enforce_supported(body, SUPPORTED, provider="cohere", drop_params=drop_params)
    if body.get("n") not in (None, 1):
        raise BadRequestError("cohere supports only n=1", param="n")
    out: JSON = {"model": model, "messages": [_message(m) for m in body.get("messages") or []]}
    for name, key in _SAMPLING.items():
        value = body.get(name)
        if value is not None:
            out[key] = value
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        out["max_tokens"] = max_tokens
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if body.get("stream"):
        out["stream"] = True
    response_format = _response_format(body.get("response_format"))
    if response_format is not None:
        out["response_format"] = response_format
    tools = [_tool(t) for t in body.get("tools") or []]
    tools, choice = _tool_choice(body.get("tool_choice"), tools)
    if tools:
        out["tools"] = tools
    if choice is not None:
        out["tool_choice"] = choice
    return out


def _response_format(response_format: JSONObject | None) -> JSON | None:
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        out: JSON = {"type": "json_object"}
        if isinstance(schema, dict):
            out["json_schema"] = schema
        return out
    return None


def _tool(tool: Tool) -> JSON:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise BadRequestError("each tool needs a function with a name", param="tools")
    out: JSON = {
        "name": function["name"],
        # required by Cohere, optional in OpenAI's API
        "parameters": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        out["description"] = function["description"]
    return {"type": "function", "function": out}


def _tool_choice(choice: ToolChoice, tools: list[JSON]) -> tuple[list[JSON], str | None]:
    if choice is None or choice == "auto":
        return tools, None
    if choice == "required":
        return tools, "REQUIRED"
    if choice == "none":
        return tools, "NONE"
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
        chosen = [t for t in tools if t["function"]["name"] == name]
        if not chosen:
            raise BadRequestError(
                f"tool_choice names {name!r}, which is not among the tools", param="tool_choice"
            )
        return chosen, "REQUIRED"
    raise BadRequestError(f"unsupported tool_choice: {choice!r}", param="tool_choice")


def _message(message: Message) -> JSON:
    role = message.get("role")
    if role in ("system", "developer"):
        return {"role": "system", "content": text_of(message.get("content"))}
    if role == "user":
        return {"role": "user", "content": _user_content(message.get("content"))}
    if role == "assistant":
        return _assistant(message)
    if role == "tool":
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise BadRequestError("a tool message needs its tool_call_id", param="messages")
        return {"role": "tool", "tool_call_id": call_id, "content": _tool_content(message)}
    raise BadRequestError(f"unsupported message role {role!r}", param="messages")


def _user_content(content: MessageContent) -> str | list[JSON]:
    if isinstance(content, str) or content is None:
        return content or ""
    parts: list[JSON] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            parts.append({"type": "text", "text": str(part.get("text", ""))})
            continue
        url = image_url_of(part)
        if url is not None:
            parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


def _assistant(message: Message) -> JSON:
    out: JSON = {"role": "assistant"}
    text = text_of(message.get("content"))
    calls = message.get("tool_calls") or []
    if calls:
        out["tool_calls"] = [
            {
                "id": call.get("id"),
                "type": "function",
                "function": {
                    "name": (call.get("function") or {}).get("name"),
                    "arguments": _arguments((call.get("function") or {}).get("arguments")),
                },
            }
            for call in calls
        ]
        if text:
            # Cohere's reflection before its tool calls; text alongside calls goes back there
            out["tool_plan"] = text
        return out
    out["content"] = text
    return out


def _arguments(raw: object) -> str:
    if isinstance(raw, str):
        return raw or "{}"
    raise BadRequestError("assistant tool_calls arguments must be JSON text", param="messages")


def _tool_content(message: Message) -> str:
    text = text_of(message.get("content"))
    # Cohere wants something to cite; an empty result still says the tool ran.
    return text or "(no output)"
