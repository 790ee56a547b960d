"""Anthropic stream events -> OpenAI chat.completion.chunks.

Each `tool_use` content block becomes one tool call whose OpenAI index counts tool calls only,
so indexes stay stable and dense however text and thinking blocks interleave. Usage arrives in
two parts (`message_start` has the input, `message_delta` the output) and is sent last, as the
usage chunk the gateway asks every provider for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from common.chat import ChatCompletionChunk
from gateway.providers.anthropic_request import JSON_TOOL
from gateway.providers.anthropic_response import finish_reason, token_usage
from gateway.providers.base import JSON
from gateway.providers.openai_shapes import ChunkWriter, TokenUsage


@dataclass
class AnthropicChunks:
    model: str
    json_mode: bool = False
    writer: ChunkWriter | None = None
    input_usage: JSON = field(default_factory=dict)
    output_tokens: int = 0
    stop_reason: str | None = None
    finished: bool = False
    # content block index -> OpenAI tool call index (None: the JSON-mode tool, sent as text)
    _tool_index: dict[int, int | None] = field(default_factory=dict)
    _tools_seen: int = 0

    def feed(self, event: JSON) -> Iterator[ChatCompletionChunk]:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self.writer = ChunkWriter.start(
                str(message.get("model") or self.model), message.get("id")
            )
            self.input_usage = dict(message.get("usage") or {})
            yield self.writer.role()
            return
        writer = self._writer()
        if kind == "content_block_start":
            yield from self._block_start(
                writer, int(event.get("index", 0)), event.get("content_block") or {}
            )
        elif kind == "content_block_delta":
            yield from self._block_delta(
                writer, int(event.get("index", 0)), event.get("delta") or {}
            )
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            if delta.get("stop_reason"):
                self.stop_reason = delta["stop_reason"]
            usage = event.get("usage") or {}
            if isinstance(usage.get("output_tokens"), int):
                self.output_tokens = usage["output_tokens"]
            for key in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
                if isinstance(usage.get(key), int):
                    self.input_usage[key] = usage[key]
        elif kind == "message_stop":
            self.finished = True
            reason = finish_reason(self.stop_reason)
            if self.json_mode and reason == "tool_calls" and self._tools_seen == 0:
                reason = "stop"
            yield writer.finish(reason)
            yield writer.usage(self.usage())

    def usage(self) -> TokenUsage:
        return token_usage({**self.input_usage, "output_tokens": self.output_tokens})

    def _writer(self) -> ChunkWriter:
        if self.writer is None:  # tolerate a stream that skipped message_start
            self.writer = ChunkWriter.start(self.model)
        return self.writer

    def _block_start(
        self, writer: ChunkWriter, index: int, block: JSON
    ) -> Iterator[ChatCompletionChunk]:
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            yield writer.text(block["text"])
        elif kind == "thinking" and block.get("thinking"):
            yield writer.reasoning(block["thinking"])
        elif kind == "tool_use":
            if self.json_mode and block.get("name") == JSON_TOOL:
                self._tool_index[index] = None
                return
            position = self._tools_seen
            self._tools_seen += 1
            self._tool_index[index] = position
            yield writer.tool_call_start(position, str(block.get("id")), str(block.get("name")))

    def _block_delta(
        self, writer: ChunkWriter, index: int, delta: JSON
    ) -> Iterator[ChatCompletionChunk]:
        kind = delta.get("type")
        if kind == "text_delta":
            yield writer.text(str(delta.get("text", "")))
        elif kind == "thinking_delta":
            yield writer.reasoning(str(delta.get("thinking", "")))
        elif kind == "input_json_delta":
            partial = str(delta.get("partial_json", ""))
            if not partial:
                return
            if index not in self._tool_index:
                return
            position = self._tool_index[index]
            if position is None:
                yield writer.text(partial)
            else:
                yield writer.tool_call_arguments(position, partial)
