"""OpenAI chat.completion.chunks -> Anthropic stream events.

Content arrives as one open block at a time: reasoning opens a `thinking` block, text a `text`
block, each new tool call a `tool_use` block (its argument pieces become `input_json_delta`s).
Starting a different kind of block closes the open one, as Anthropic's streams do. Usage comes
in OpenAI's final usage chunk, so `message_start` carries zero tokens and `message_delta`
carries the real counts (the Anthropic SDK takes both from there).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.anthropic_api.response import anthropic_usage, message_id, stop_reason
from gateway.providers.base import JSON


@dataclass
class AnthropicEvents:
    model: str
    started: bool = False
    usage: JSON | None = None
    finish_reason: str | None = None
    _open: str | None = None  # "text", "thinking", "tool:<openai index>"
    _index: int = -1
    _tool_blocks: dict[int, int] = field(default_factory=dict)

    def feed(self, chunk: JSON) -> Iterator[JSON]:
        if not self.started:
            self.started = True
            yield self._message_start(chunk)
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content")
            if reasoning:
                yield from self._ensure(
                    "thinking", {"type": "thinking", "thinking": "", "signature": ""}
                )
                yield self._delta({"type": "thinking_delta", "thinking": reasoning})
            text = delta.get("content")
            if text:
                yield from self._ensure("text", {"type": "text", "text": ""})
                yield self._delta({"type": "text_delta", "text": text})
            for call in delta.get("tool_calls") or []:
                yield from self._tool_call(call)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def close(self) -> Iterator[JSON]:
        if not self.started:
            self.started = True
            yield self._message_start({})
        yield from self._close_open()
        yield {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(self.finish_reason), "stop_sequence": None},
            "usage": anthropic_usage(self.usage),
        }
        yield {"type": "message_stop"}

    def _message_start(self, chunk: JSON) -> JSON:
        return {
            "type": "message_start",
            "message": {
                "id": message_id(chunk.get("id")),
                "type": "message",
                "role": "assistant",
                "model": chunk.get("model") or self.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            },
        }

    def _tool_call(self, call: Any) -> Iterator[JSON]:
        position = call.get("index", 0)
        function = call.get("function") or {}
        if position not in self._tool_blocks:
            yield from self._close_open()
            self._index += 1
            self._tool_blocks[position] = self._index
            self._open = f"tool:{position}"
            yield {
                "type": "content_block_start",
                "index": self._index,
                "content_block": {
                    "type": "tool_use",
                    "id": call.get("id"),
                    "name": function.get("name"),
                    "input": {},
                },
            }
        arguments = function.get("arguments")
        if arguments:
            yield {
                "type": "content_block_delta",
                "index": self._tool_blocks[position],
                "delta": {"type": "input_json_delta", "partial_json": arguments},
            }

    def _ensure(self, kind: str, block: JSON) -> Iterator[JSON]:
        if self._open == kind:
            return
        yield from self._close_open()
        self._index += 1
        self._open = kind
        yield {"type": "content_block_start", "index": self._index, "content_block": block}

    def _close_open(self) -> Iterator[JSON]:
        if self._open is not None:
            yield {"type": "content_block_stop", "index": self._index}
            self._open = None

    def _delta(self, delta: JSON) -> JSON:
        return {"type": "content_block_delta", "index": self._index, "delta": delta}
