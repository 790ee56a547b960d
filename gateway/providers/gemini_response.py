"""Gemini `GenerateContentResponse` -> OpenAI completion, and stream chunks -> OpenAI chunks.

Function calls get the id Gemini sent, or a fresh `call_...` id when it sent none; a call's
`thoughtSignature` (which thinking models require back on the next turn) rides in that id
(see `gemini_ids`), since OpenAI clients return tool call ids but drop unknown fields. A prompt
blocked by safety settings (`promptFeedback.blockReason`, no candidates) is a content-policy
error, so `content_policy_fallbacks` apply.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import orjson

from common.chat import ChatCompletion, ChatCompletionChunk, OutputToolCall
from gateway.errors import ContentPolicyViolationError
from gateway.providers.base import JSON
from gateway.providers.gemini_ids import with_signature
from gateway.providers.openai_shapes import (
    ChunkWriter,
    TokenUsage,
    assistant_message,
    completion,
    function_call,
    new_id,
    new_tool_call_id,
)

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}


def finish_reason(reason: object, has_calls: bool) -> str:
    if has_calls:
        return "tool_calls"
    return _FINISH.get(reason, "stop") if isinstance(reason, str) else "stop"


def token_usage(metadata: object) -> TokenUsage:
    if not isinstance(metadata, dict):
        return TokenUsage(0, 0)
    thoughts = _int(metadata.get("thoughtsTokenCount"))
    cached = metadata.get("cachedContentTokenCount")
    return TokenUsage(
        _int(metadata.get("promptTokenCount")),
        _int(metadata.get("candidatesTokenCount")) + thoughts,
        cached=cached if isinstance(cached, int) else None,
        reasoning=thoughts if "thoughtsTokenCount" in metadata else None,
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def check_blocked(response: Mapping[str, object], provider: str = "gemini") -> None:
    feedback = response.get("promptFeedback")
    if not response.get("candidates") and isinstance(feedback, dict):
        reason = feedback.get("blockReason")
        if reason:
            raise ContentPolicyViolationError(
                f"{provider} error: the prompt was blocked ({reason})", provider=provider
            )


@dataclass(frozen=True, slots=True)
class _Parts:
    text: str
    reasoning: str
    calls: list[OutputToolCall]


def _read_parts(candidate: object) -> _Parts:
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[OutputToolCall] = []
    content = candidate.get("content") if isinstance(candidate, dict) else None
    for part in (content or {}).get("parts") or []:
        if "functionCall" in part:
            call = part["functionCall"] or {}
            arguments = orjson.dumps(call.get("args") or {}).decode()
            call_id = with_signature(
                str(call.get("id") or new_tool_call_id()), part.get("thoughtSignature")
            )
            calls.append(function_call(str(call_id), str(call.get("name")), arguments))
        elif isinstance(part.get("text"), str):
            (thoughts if part.get("thought") else texts).append(part["text"])
    return _Parts("".join(texts), "".join(thoughts), calls)


def chat_completion(response: JSON, model: str, provider: str = "gemini") -> ChatCompletion:
    """`provider` names who answered in errors: `gemini` or `vertex_ai`, one wire format."""
    check_blocked(response, provider)
    candidates = response.get("candidates") or [{}]
    candidate = candidates[0]
    parts = _read_parts(candidate)
    message = assistant_message(parts.text or None, parts.calls, parts.reasoning or None)
    return completion(
        id=str(response.get("responseId") or new_id("chatcmpl")),
        model=str(response.get("modelVersion") or model),
        message=message,
        finish_reason=finish_reason(candidate.get("finishReason"), bool(parts.calls)),
        usage=token_usage(response.get("usageMetadata")),
    )


@dataclass
class GeminiChunks:
    """Each streamed response carries whole parts: text pieces, or complete function calls."""

    model: str
    provider: str = "gemini"
    writer: ChunkWriter | None = None
    usage: TokenUsage = field(default_factory=lambda: TokenUsage(0, 0))
    finish: str | None = None
    calls_seen: int = 0

    def feed(self, response: JSON) -> Iterator[ChatCompletionChunk]:
        check_blocked(response, self.provider)
        if self.writer is None:
            model = str(response.get("modelVersion") or self.model)
            self.writer = ChunkWriter.start(model, response.get("responseId"))
            yield self.writer.role()
        writer = self.writer
        if isinstance(response.get("usageMetadata"), dict):
            self.usage = token_usage(response["usageMetadata"])
        candidates = response.get("candidates") or []
        if not candidates:
            return
        candidate = candidates[0]
        parts = _read_parts(candidate)
        if parts.reasoning:
            yield writer.reasoning(parts.reasoning)
        if parts.text:
            yield writer.text(parts.text)
        for call in parts.calls:
            function = call["function"]
            yield writer.tool_call_start(
                self.calls_seen, call["id"], function["name"], function["arguments"]
            )
            self.calls_seen += 1
        if candidate.get("finishReason"):
            self.finish = finish_reason(candidate["finishReason"], self.calls_seen > 0)

    def close(self) -> Iterator[ChatCompletionChunk]:
        writer = self.writer or ChunkWriter.start(self.model)
        yield writer.finish(self.finish or ("tool_calls" if self.calls_seen else "stop"))
        yield writer.usage(self.usage)
