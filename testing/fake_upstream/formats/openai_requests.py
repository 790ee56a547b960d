"""Parse OpenAI requests (chat completions, legacy completions) into neutral `Prompt`s.

Checks mirror the real API's 400s: the same `param` and `code` for a missing or invalid field.
"""

from __future__ import annotations

from typing import Any

from .. import embeddings, errors
from ..reply import Prompt, ReplyError


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: only text parts carry text
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _model(body: dict[str, Any]) -> str | ReplyError:
    model = body.get("model")
    if model is None:
        return errors.missing_parameter("model")
    if not isinstance(model, str) or not model:
        return errors.invalid_parameter("model", "Invalid 'model': expected a non-empty string.")
    return model


def _stream_flags(body: dict[str, Any]) -> tuple[bool, bool]:
    stream = body.get("stream") is True
    options = body.get("stream_options")
    include_usage = stream and isinstance(options, dict) and options.get("include_usage") is True
    return stream, include_usage


def parse_chat(body: Any) -> Prompt | ReplyError:
    if not isinstance(body, dict):
        return errors.invalid_json()
    model = _model(body)
    if isinstance(model, ReplyError):
        return model
    messages = body.get("messages")
    if messages is None:
        return errors.missing_parameter("messages")
    if not isinstance(messages, list) or not messages:
        return errors.invalid_parameter(
            "messages", "Invalid 'messages': expected a non-empty array of messages."
        )
    prompt_chars = 0
    last_user = ""
    last_tool = ""
    turn = 0
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            return errors.invalid_parameter(
                "messages", "Invalid 'messages': each message needs a string 'role'."
            )
        text = _text_of(message.get("content"))
        prompt_chars += len(text)
        if message["role"] == "user":
            last_user, turn = text, 0
        elif message["role"] == "tool":
            last_tool = text
        elif message["role"] == "assistant":
            turn += 1
    tools = body.get("tools")
    names: list[str] = []
    if isinstance(tools, list):
        for tool in tools:
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                names.append(function["name"])
    stream, include_usage = _stream_flags(body)
    return Prompt(
        model,
        last_user,
        tuple(names),
        prompt_chars,
        stream,
        include_usage,
        last_tool_text=last_tool,
        turn=turn,
    )


def parse_completion(body: Any) -> Prompt | ReplyError:
    if not isinstance(body, dict):
        return errors.invalid_json()
    model = _model(body)
    if isinstance(model, ReplyError):
        return model
    prompt = body.get("prompt")
    if prompt is None:
        return errors.missing_parameter("prompt")
    if isinstance(prompt, str):
        text = prompt
    elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        text = prompt[-1]
    elif isinstance(prompt, list):  # token arrays: no text to echo
        text = ""
    else:
        return errors.invalid_parameter("prompt", "Invalid 'prompt': expected a string or array.")
    stream, include_usage = _stream_flags(body)
    return Prompt(model, text, (), len(text), stream, include_usage)


def _embedding_texts(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(item, str) for item in value):
        return list(value)
    if all(isinstance(item, int) for item in value):  # one token array
        return [" ".join(map(str, value))]
    if all(isinstance(item, list) and all(isinstance(t, int) for t in item) for item in value):
        return [" ".join(map(str, item)) for item in value]
    return None


def parse_embeddings(body: Any) -> tuple[str, list[str], int, str] | ReplyError:
    if not isinstance(body, dict):
        return errors.invalid_json()
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return errors.missing_parameter("model")
    if "input" not in body:
        return errors.missing_parameter("input")
    texts = _embedding_texts(body["input"])
    if texts is None:
        return errors.invalid_parameter(
            "input", "Invalid 'input': expected a string, an array of strings, or token arrays."
        )
    dimensions = body.get("dimensions", embeddings.DEFAULT_DIMENSIONS)
    if (
        not isinstance(dimensions, int)
        or isinstance(dimensions, bool)
        or not 1 <= dimensions <= embeddings.MAX_DIMENSIONS
    ):
        return errors.invalid_parameter(
            "dimensions",
            f"Invalid 'dimensions': expected an integer from 1 to {embeddings.MAX_DIMENSIONS}.",
        )
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        return errors.invalid_parameter(
            "encoding_format", "Invalid 'encoding_format': expected 'float' or 'base64'."
        )
    return model, texts, dimensions, encoding
