"""Builders for the OpenAI shapes providers return: completions, stream chunks, usage, ids."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import orjson

from common.chat import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Delta,
    OutputToolCall,
    ToolCallDelta,
    Usage,
)
from gateway.errors import BadRequestError
from gateway.providers.base import JSON


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


def new_tool_call_id() -> str:
    return f"call_{secrets.token_hex(12)}"


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Counts every provider can be read into; `None` details are left out of the OpenAI shape."""

    prompt: int
    completion: int
    cached: int | None = None
    reasoning: int | None = None
    cache_write: int | None = None

    def as_openai(self) -> Usage:
        usage: Usage = {
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion,
        }
        if self.cached is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": self.cached}
        if self.reasoning is not None:
            usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning}
        if self.cache_write:
            # LiteLLM's name for prompt tokens written to the provider's cache (billed apart)
            usage["cache_creation_input_tokens"] = self.cache_write
        return usage


def completion(
    *,
    id: str,
    model: str,
    message: AssistantMessage,
    finish_reason: str,
    usage: TokenUsage | None,
    created: int | None = None,
) -> ChatCompletion:
    result: ChatCompletion = {
        "id": id,
        "object": "chat.completion",
        "created": created or int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
        ],
    }
    if usage is not None:
        result["usage"] = usage.as_openai()
    return result


def assistant_message(
    text: str | None, tool_calls: list[OutputToolCall], reasoning: str | None = None
) -> AssistantMessage:
    message: AssistantMessage = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    if reasoning:
        message["reasoning_content"] = reasoning
    return message


def function_call(id: str, name: str, arguments: str) -> OutputToolCall:
    return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}


@dataclass(slots=True)
class ChunkWriter:
    """Makes the `chat.completion.chunk`s of one stream, all sharing its id, model and time."""

    id: str
    model: str
    created: int

    @classmethod
    def start(cls, model: str, id: str | None = None) -> ChunkWriter:
        return cls(id or new_id("chatcmpl"), model, int(time.time()))

    def chunk(self, delta: Delta, finish_reason: str | None = None) -> ChatCompletionChunk:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    def role(self) -> ChatCompletionChunk:
        return self.chunk({"role": "assistant", "content": ""})

    def text(self, text: str) -> ChatCompletionChunk:
        return self.chunk({"content": text})

    def reasoning(self, text: str) -> ChatCompletionChunk:
        return self.chunk({"reasoning_content": text})

    def tool_call_start(
        self, index: int, id: str, name: str, arguments: str = ""
    ) -> ChatCompletionChunk:
        call: ToolCallDelta = {
            "index": index,
            "id": id,
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        return self.chunk({"tool_calls": [call]})

    def tool_call_arguments(self, index: int, arguments: str) -> ChatCompletionChunk:
        return self.chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]})

    def finish(self, finish_reason: str) -> ChatCompletionChunk:
        return self.chunk({}, finish_reason)

    def usage(self, usage: TokenUsage) -> ChatCompletionChunk:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage.as_openai(),
        }


def text_of(content: object) -> str:
    """The text of an OpenAI message `content`: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def embedding_list(model: str, vectors: list[list[float]], prompt_tokens: int) -> JSON:
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": vector}
            for i, vector in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def estimate_tokens(text: str) -> int:
    """About four characters per token: used only where an upstream reports no count."""
    return max(1, (len(text) + 3) // 4) if text else 0


def tool_arguments(raw: object) -> JSON:
    """An assistant tool call's `arguments` (JSON text) as the object native APIs want."""
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    if not isinstance(raw, str):
        raise BadRequestError("assistant tool_calls arguments must be JSON text", param="messages")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(
            "assistant tool_calls arguments must be JSON text", param="messages"
        ) from exc
    return parsed if isinstance(parsed, dict) else {"value": parsed}
