"""ConverseStream events -> OpenAI chat.completion.chunks.

The events come in this order: `messageStart`, then per content block an optional
`contentBlockStart` (tool use only: id and name), `contentBlockDelta`s (text, tool input JSON
pieces, reasoning) and `contentBlockStop`, then `messageStop` (the stop reason) and `metadata`
(usage). Tool calls get OpenAI indexes that count tool calls only, so they stay dense however
text and reasoning blocks interleave. Usage is sent last, as the usage chunk the gateway asks
every provider for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from common.chat import ChatCompletionChunk
from gateway.providers.base import JSON
from gateway.providers.bedrock_request import JSON_TOOL
from gateway.providers.bedrock_response import finish_reason, token_usage
from gateway.providers.openai_shapes import ChunkWriter


@dataclass
class BedrockChunks:
    model: str
    json_mode: bool = False
    writer: ChunkWriter = field(init=False)
    stop_reason: str | None = None
    finished: bool = False  # the metadata event (usage) arrived
    # content block index -> OpenAI tool call index (None: the JSON-mode tool, sent as text)
    _tool_index: dict[int, int | None] = field(default_factory=dict)
    _tools_seen: int = 0
    _started: bool = False

    def __post_init__(self) -> None:
        self.writer = ChunkWriter.start(self.model)

    def feed(self, kind: str, event: JSON) -> Iterator[ChatCompletionChunk]:
        if kind == "messageStart":
            self._started = True
            yield self.writer.role()
            return
        if not self._started:  # tolerate a stream that skipped messageStart
            self._started = True
            yield self.writer.role()
        if kind == "contentBlockStart":
            yield from self._block_start(int(event["contentBlockIndex"]), event.get("start") or {})
        elif kind == "contentBlockDelta":
            yield from self._block_delta(int(event["contentBlockIndex"]), event.get("delta") or {})
        elif kind == "messageStop":
            self.stop_reason = str(event.get("stopReason"))
            reason = finish_reason(self.stop_reason)
            if self.json_mode and reason == "tool_calls" and self._tools_seen == 0:
                reason = "stop"
            yield self.writer.finish(reason)
        elif kind == "metadata":
            self.finished = True
            yield self.writer.usage(token_usage(event.get("usage")))
        # contentBlockStop and events added later carry nothing a chunk needs

    def _block_start(self, index: int, start: JSON) -> Iterator[ChatCompletionChunk]:
        use = start.get("toolUse")
        if not isinstance(use, dict):
            return
        if self.json_mode and use.get("name") == JSON_TOOL:
            self._tool_index[index] = None
            return
        position = self._tools_seen
        self._tools_seen += 1
        self._tool_index[index] = position
        yield self.writer.tool_call_start(position, str(use["toolUseId"]), str(use["name"]))

    def _block_delta(self, index: int, delta: JSON) -> Iterator[ChatCompletionChunk]:
        if "text" in delta:
            if delta["text"]:
                yield self.writer.text(str(delta["text"]))
        elif "toolUse" in delta:
            partial = str((delta["toolUse"] or {}).get("input", ""))
            if not partial or index not in self._tool_index:
                return
            position = self._tool_index[index]
            if position is None:
                yield self.writer.text(partial)
            else:
                yield self.writer.tool_call_arguments(position, partial)
        elif "reasoningContent" in delta:
            thought = delta["reasoningContent"] or {}
            if thought.get("text"):
                yield self.writer.reasoning(str(thought["text"]))
