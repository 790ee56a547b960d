"""OpenAI chat <-> Ollama's native `/api/chat`: messages with base64 `images`, tool calls with
object arguments, tool results named by `tool_name`, sampling settings under `options`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import orjson

from common.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatRequest,
    Message,
    MessageContent,
    OutputToolCall,
)
from gateway.errors import BadRequestError
from gateway.providers.base import JSON
from gateway.providers.images import image_url_of, parse_data_url
from gateway.providers.openai_shapes import (
    ChunkWriter,
    TokenUsage,
    assistant_message,
    completion,
    function_call,
    new_id,
    new_tool_call_id,
    text_of,
    tool_arguments,
)
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
        "keep_alive",
        "user",
    }
)
_OPTIONS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
_FINISH = {"stop": "stop", "length": "length"}


def chat_request(body: ChatRequest, model: str, *, stream: bool, drop_params: bool) -> JSON:
    body = enforce_supported(body, SUPPORTED, provider="ollama", drop_params=drop_params)
    out: JSON = {"model": model, "messages": _messages(body.get("messages") or [])}
    out["stream"] = stream  # Ollama streams unless told otherwise
    given = {name: body.get(key) for key, name in _OPTIONS.items()}
    options: JSON = {name: value for name, value in given.items() if value is not None}
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        options["num_predict"] = max_tokens
    stop = body.get("stop")
    if stop:
        options["stop"] = [stop] if isinstance(stop, str) else list(stop)
    if options:
        out["options"] = options
    choice = body.get("tool_choice")
    if body.get("tools") and choice != "none":
        if choice not in (None, "auto") and not drop_params:
            raise BadRequestError(
                "ollama supports only tool_choice 'auto' or 'none'", param="tool_choice"
            )
        out["tools"] = body["tools"]
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if isinstance(schema, dict):
            out["format"] = schema
        elif response_format.get("type") in ("json_object", "json_schema"):
            out["format"] = "json"
    if isinstance(body.get("reasoning_effort"), str):
        out["think"] = body["reasoning_effort"] != "none"
    if body.get("keep_alive") is not None:
        out["keep_alive"] = body["keep_alive"]
    return out


def _messages(messages: list[Message]) -> list[JSON]:
    names: dict[str, str] = {}
    out: list[JSON] = []
    for message in messages:
        role = message.get("role")
        if role == "developer":
            role = "system"
        if role in ("system", "user"):
            out.append(_with_images(role, message.get("content")))
        elif role == "assistant":
            reply: JSON = {"role": "assistant", "content": text_of(message.get("content"))}
            calls = []
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                name = str(function.get("name"))
                call_id = call.get("id")
                if isinstance(call_id, str):
                    names[call_id] = name
                arguments = tool_arguments(function.get("arguments"))
                calls.append({"function": {"name": name, "arguments": arguments}})
            if calls:
                reply["tool_calls"] = calls
            out.append(reply)
        elif role in ("tool", "function"):
            result: JSON = {"role": "tool", "content": text_of(message.get("content"))}
            call_id = message.get("tool_call_id")
            tool_name = message.get("name") or (
                names.get(call_id) if isinstance(call_id, str) else None
            )
            if tool_name:
                result["tool_name"] = tool_name
            out.append(result)
        else:
            raise BadRequestError(f"unsupported message role {role!r}", param="messages")
    return out


def _with_images(role: str, content: MessageContent) -> JSON:
    message: JSON = {"role": role, "content": text_of(content)}
    images = []
    for part in content if isinstance(content, list) else []:
        url = image_url_of(part)
        if url is None:
            continue
        inline = parse_data_url(url)
        if inline is None:
            raise BadRequestError("ollama needs images inlined as data URLs", param="messages")
        images.append(inline.data)
    if images:
        message["images"] = images
    return message


def token_usage(response: Mapping[str, object]) -> TokenUsage:
    prompt, output = response.get("prompt_eval_count"), response.get("eval_count")
    return TokenUsage(
        prompt if isinstance(prompt, int) else 0, output if isinstance(output, int) else 0
    )


def _calls(message: JSON) -> list[OutputToolCall]:
    calls = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        arguments = function.get("arguments")
        text = arguments if isinstance(arguments, str) else orjson.dumps(arguments or {}).decode()
        calls.append(
            function_call(
                str(call.get("id") or new_tool_call_id()), str(function.get("name")), text
            )
        )
    return calls


def finish_reason(response: Mapping[str, object], has_calls: bool) -> str:
    if has_calls:
        return "tool_calls"
    return _FINISH.get(str(response.get("done_reason")), "stop")


def chat_completion(response: JSON, model: str) -> ChatCompletion:
    message = response.get("message") or {}
    calls = _calls(message)
    reply = assistant_message(
        message.get("content") or None, calls, message.get("thinking") or None
    )
    return completion(
        id=new_id("chatcmpl"),
        model=str(response.get("model") or model),
        message=reply,
        finish_reason=finish_reason(response, bool(calls)),
        usage=token_usage(response),
    )


@dataclass
class OllamaChunks:
    writer: ChunkWriter
    calls_seen: int = 0
    done: bool = False
    _started: bool = field(default=False)

    def feed(self, line: JSON) -> Iterator[ChatCompletionChunk]:
        if not self._started:
            self._started = True
            yield self.writer.role()
        message = line.get("message") or {}
        if message.get("thinking"):
            yield self.writer.reasoning(str(message["thinking"]))
        if message.get("content"):
            yield self.writer.text(str(message["content"]))
        for call in _calls(message):
            function = call["function"]
            yield self.writer.tool_call_start(
                self.calls_seen, call["id"], function["name"], function["arguments"]
            )
            self.calls_seen += 1
        if line.get("done"):
            self.done = True
            yield self.writer.finish(finish_reason(line, self.calls_seen > 0))
            yield self.writer.usage(token_usage(line))
