"""OpenAI chat request -> Gemini `generateContent` request.

Roles become `user`/`model` and consecutive turns of one role are merged, since Gemini wants
them alternating; system messages become `systemInstruction`; tool results become
`functionResponse` parts (named after the call they answer, found by `tool_call_id`, and
carrying that id). Images must already be data URLs (see `images.inline_remote_images`).
"""

from __future__ import annotations

from typing import Any

import orjson

from common.chat import ChatRequest, Message, MessageContent, Tool, ToolChoice
from gateway.errors import BadRequestError
from gateway.providers.base import JSON
from gateway.providers.gemini_ids import split_signature
from gateway.providers.gemini_schema import gemini_schema
from gateway.providers.images import image_url_of, parse_data_url
from gateway.providers.openai_shapes import text_of, tool_arguments
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
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
        "user",
    }
)

_GENERATION = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "seed": "seed",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
}
_EFFORT_BUDGET = {"minimal": 0, "low": 1024, "medium": 8192, "high": 24576}


def generate_request(body: ChatRequest, *, drop_params: bool) -> JSON:
    body = enforce_supported(body, SUPPORTED, provider="gemini", drop_params=drop_params)
    if body.get("n") not in (None, 1):
        raise BadRequestError("gemini supports only n=1 through the gateway", param="n")
    system, contents = _contents(body.get("messages") or [])
    out: JSON = {"contents": contents}
    if system:
        out["systemInstruction"] = {"parts": [{"text": text} for text in system]}
    config = _generation_config(body)
    if config:
        out["generationConfig"] = config
    tools = body.get("tools")
    if tools:
        out["tools"] = [{"functionDeclarations": [_declaration(t) for t in tools]}]
    tool_config = _tool_config(body.get("tool_choice"))
    if tool_config is not None:
        out["toolConfig"] = tool_config
    return out


def _generation_config(body: ChatRequest) -> JSON:
    config: JSON = {}
    for name, key in _GENERATION.items():
        value = body.get(name)
        if value is not None:
            config[key] = value
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        config["maxOutputTokens"] = max_tokens
    stop = body.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in (
        "json_object",
        "json_schema",
    ):
        config["responseMimeType"] = "application/json"
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if isinstance(schema, dict):
            config["responseSchema"] = gemini_schema(schema)
    effort = body.get("reasoning_effort")
    if isinstance(effort, str) and effort in _EFFORT_BUDGET:
        budget = _EFFORT_BUDGET[effort]
        config["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": budget > 0}
    return config


def _declaration(tool: Tool) -> JSON:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise BadRequestError("each tool needs a function with a name", param="tools")
    out: JSON = {"name": function["name"]}
    if function.get("description"):
        out["description"] = function["description"]
    parameters = function.get("parameters")
    if isinstance(parameters, dict) and parameters.get("properties"):
        out["parameters"] = gemini_schema(parameters)
    return out


def _tool_config(choice: ToolChoice) -> JSON | None:
    if choice is None:
        return None
    if choice == "auto":
        mode: JSON = {"mode": "AUTO"}
    elif choice == "required":
        mode = {"mode": "ANY"}
    elif choice == "none":
        mode = {"mode": "NONE"}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        mode = {"mode": "ANY", "allowedFunctionNames": [choice["function"].get("name")]}
    else:
        raise BadRequestError(f"unsupported tool_choice: {choice!r}", param="tool_choice")
    return {"functionCallingConfig": mode}


def _contents(messages: list[Message]) -> tuple[list[str], list[JSON]]:
    system: list[str] = []
    contents: list[JSON] = []
    call_names: dict[str, str] = {}
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            text = text_of(message.get("content"))
            if text:
                system.append(text)
        elif role == "user":
            _append(contents, "user", _user_parts(message.get("content")))
        elif role == "assistant":
            _append(contents, "model", _model_parts(message, call_names))
        elif role in ("tool", "function"):
            _append(contents, "user", [_function_response(message, call_names)])
        else:
            raise BadRequestError(f"unsupported message role {role!r}", param="messages")
    return system, contents


def _append(contents: list[JSON], role: str, parts: list[JSON]) -> None:
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def _user_parts(content: MessageContent) -> list[JSON]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[JSON] = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and part.get("text"):
            parts.append({"text": part["text"]})
            continue
        url = image_url_of(part)
        if url is None:
            continue
        inline = parse_data_url(url)
        if inline is None:
            raise BadRequestError("gemini needs images inlined as data URLs", param="messages")
        parts.append({"inlineData": {"mimeType": inline.media_type, "data": inline.data}})
    return parts


def _model_parts(message: Message, call_names: dict[str, str]) -> list[JSON]:
    parts: list[JSON] = []
    text = text_of(message.get("content"))
    if text:
        parts.append({"text": text})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        name = str(function.get("name"))
        call_id = call.get("id")
        part: JSON = {"name": name, "args": tool_arguments(function.get("arguments"))}
        signature = None
        if isinstance(call_id, str):
            call_names[call_id] = name
            part["id"], signature = split_signature(call_id)
        wrapped: JSON = {"functionCall": part}
        if signature:
            wrapped["thoughtSignature"] = signature
        parts.append(wrapped)
    return parts


def _function_response(message: Message, call_names: dict[str, str]) -> JSON:
    call_id = message.get("tool_call_id")
    name = message.get("name") or (call_names.get(call_id) if isinstance(call_id, str) else None)
    if not name:
        raise BadRequestError(
            "a tool message must answer a tool_call_id from an earlier assistant message",
            param="messages",
        )
    text = text_of(message.get("content"))
    response: Any
    try:
        response = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        response = None
    if not isinstance(response, dict):
        response = {"content": text}
    part: JSON = {"name": name, "response": response}
    if isinstance(call_id, str):
        part["id"] = split_signature(call_id)[0]
    return {"functionResponse": part}
