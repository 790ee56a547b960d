"""Render neutral `Reply`s in OpenAI's wire shapes, whole or as SSE frames.

Shapes follow the API reference for chat.completion, chat.completion.chunk, text_completion,
and the error object `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from ..reply import Reply, ReplyError, ToolCall, Usage

FINGERPRINT = "fp_fake_upstream"
DONE_FRAME = b"data: [DONE]\n\n"
_WORDS = re.compile(r"\s*\S+\s*|\s+")


def error_body(error: ReplyError) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "message": error.message,
                "type": error.type,
                "param": error.param,
                "code": error.code,
            }
        }
    )


def frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def text_pieces(text: str) -> list[str]:
    """Word-sized pieces, about what a model streams per chunk."""
    return _WORDS.findall(text)


def argument_pieces(arguments: str) -> list[str]:
    """Split arguments so that even `{}` arrives in more than one delta, as real streams do."""
    if len(arguments) < 2:
        return [arguments]
    size = max(1, min(8, len(arguments) // 2))
    return [arguments[i : i + size] for i in range(0, len(arguments), size)]


def usage_json(usage: Usage, *, detailed: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if detailed:
        out["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
        out["completion_tokens_details"] = {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
    return out


# ---- chat completions ---------------------------------------------------------------------


def _tool_call_json(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


class ChatRenderer:
    """Renders one chat completion, whole or as `chat.completion.chunk` frames."""

    def __init__(self, response_id: str, created: int, model: str, include_usage: bool) -> None:
        self._id = response_id
        self._created = created
        self._model = model
        self._include_usage = include_usage

    def body(self, reply: Reply) -> bytes:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text,
            "refusal": None,
            "annotations": [],
        }
        if reply.tool_calls:
            message["tool_calls"] = [_tool_call_json(call) for call in reply.tool_calls]
        return orjson.dumps(
            {
                "id": self._id,
                "object": "chat.completion",
                "created": self._created,
                "model": self._model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": usage_json(reply.usage),
                "service_tier": "default",
                "system_fingerprint": FINGERPRINT,
            }
        )

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        payload: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if self._include_usage:
            payload["usage"] = None
        return frame(payload)

    def frames(self, reply: Reply) -> Iterator[bytes]:
        role: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        if reply.text is None and reply.tool_calls:
            # OpenAI announces the role together with the first tool call.
            role["content"] = None
        else:
            yield self._chunk(role)
            role = {}
        # Content pieces share everything but the text: render the envelope once.
        envelope = self._chunk({"content": "\x00"}).rsplit(b'"\\u0000"', 1)
        for piece in text_pieces(reply.text or ""):
            yield envelope[0] + orjson.dumps(piece) + envelope[1]
        for index, call in enumerate(reply.tool_calls):
            opening = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            yield self._chunk({**role, "tool_calls": [opening]})
            role = {}
            for piece in argument_pieces(call.arguments):
                yield self._chunk(
                    {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                )
        yield self._chunk({}, reply.finish_reason)
        if self._include_usage:
            yield frame(
                {
                    "id": self._id,
                    "object": "chat.completion.chunk",
                    "created": self._created,
                    "model": self._model,
                    "system_fingerprint": FINGERPRINT,
                    "choices": [],
                    "usage": usage_json(reply.usage),
                }
            )
        yield DONE_FRAME

    def error_body(self, error: ReplyError) -> bytes:
        return error_body(error)

    def malformed_body(self) -> bytes:
        return b'{"id": "' + self._id.encode() + b'", "object": "chat.completion", "choices": [{'

    def malformed_frame(self) -> bytes:
        return b'data: {"id": "' + self._id.encode() + b'", "choices": [{"delta": {"cont\n\n'


# ---- legacy completions --------------------------------------------------------------------


class CompletionRenderer:
    """Renders one `text_completion`, whole or streamed."""

    def __init__(self, response_id: str, created: int, model: str, include_usage: bool) -> None:
        self._id = response_id
        self._created = created
        self._model = model
        self._include_usage = include_usage

    def _payload(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "text_completion",
            "created": self._created,
            "model": self._model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
        }

    @staticmethod
    def _choice(text: str, finish_reason: str | None) -> dict[str, Any]:
        return {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}

    def body(self, reply: Reply) -> bytes:
        payload = self._payload([self._choice(reply.text or "", _legacy_finish(reply))])
        payload["usage"] = usage_json(reply.usage, detailed=False)
        return orjson.dumps(payload)

    def frames(self, reply: Reply) -> Iterator[bytes]:
        for piece in text_pieces(reply.text or ""):
            yield frame(self._payload([self._choice(piece, None)]))
        yield frame(self._payload([self._choice("", _legacy_finish(reply))]))
        if self._include_usage:
            payload = self._payload([])
            payload["usage"] = usage_json(reply.usage, detailed=False)
            yield frame(payload)
        yield DONE_FRAME

    def error_body(self, error: ReplyError) -> bytes:
        return error_body(error)

    def malformed_body(self) -> bytes:
        return b'{"id": "' + self._id.encode() + b'", "object": "text_completion", "choices": [{'

    def malformed_frame(self) -> bytes:
        return b'data: {"id": "' + self._id.encode() + b'", "choices": [{"text": "unterminat\n\n'


def _legacy_finish(reply: Reply) -> str:
    # The completions API has no tool calls; a scripted tool call ends the text normally.
    return "stop" if reply.finish_reason == "tool_calls" else reply.finish_reason
