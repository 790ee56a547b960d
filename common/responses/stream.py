"""OpenAI chat.completion.chunks -> the Responses API's stream events.

The sequence is OpenAI's: `response.created`, `response.in_progress`, then per output item
`response.output_item.added`, its parts and deltas (`response.output_text.delta`,
`response.reasoning_summary_text.delta`, `response.function_call_arguments.delta`), their
`.done` events and `response.output_item.done`; finally `response.completed` (or
`response.incomplete`) with the whole response and usage. Every event carries a
`sequence_number`. Reasoning, text and each tool call are separate items; starting a new kind
closes the open text or reasoning item, as OpenAI's own streams do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from common.chat import JSONObject as JSON
from common.responses.request import tool_names
from common.responses.response import (
    finished,
    function_call_item,
    message_item,
    new_item_id,
    reasoning_item,
)


def encode_event(event: JSON) -> bytes:
    """One event on the wire: its type as the SSE event name, the event as data."""
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


@dataclass
class _Call:
    output_index: int
    item: JSON


@dataclass
class ResponseEvents:
    base: JSON  # the skeleton response (status in_progress)
    final: JSON | None = None
    _sequence: int = 0
    _started: bool = False
    _output: list[JSON] = field(default_factory=list)
    _open: str | None = None  # "reasoning" or "message"
    _text: str = ""
    _calls: dict[int, _Call] = field(default_factory=dict)
    _usage: Any = None
    _finish_reason: Any = None
    _namespaced: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._namespaced = tool_names(self.base.get("tools"))

    def _event(self, kind: str, **fields: Any) -> JSON:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event

    def start(self) -> Iterator[JSON]:
        if not self._started:
            self._started = True
            yield self._event("response.created", response=self.base)
            yield self._event("response.in_progress", response=self.base)

    def feed(self, chunk: JSON) -> Iterator[JSON]:
        yield from self.start()
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                yield from self._text_delta("reasoning", reasoning)
            content = delta.get("content")
            if isinstance(content, str) and content:
                yield from self._text_delta("message", content)
            for call in delta.get("tool_calls") or []:
                yield from self._tool_call(call)
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]

    def close(self) -> Iterator[JSON]:
        """The closing events; `final` holds the finished response once this has run."""
        yield from self.start()
        yield from self._close_open()
        for call in self._calls.values():
            item = call.item
            item["status"] = "completed"
            yield self._event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=call.output_index,
                arguments=item["arguments"],
            )
            yield self._event(
                "response.output_item.done", output_index=call.output_index, item=dict(item)
            )
        self.final = finished(self.base, self._output, self._usage, self._finish_reason)
        kind = (
            "response.completed" if self.final["status"] == "completed" else "response.incomplete"
        )
        yield self._event(kind, response=self.final)

    def whole_item(self, item: JSON) -> Iterator[JSON]:
        """An item that is complete when it is added (no deltas): after the open text, before
        any function call that comes later."""
        yield from self.start()
        yield from self._close_open()
        index = len(self._output)
        self._output.append(item)
        yield self._event("response.output_item.added", output_index=index, item=item)
        yield self._event("response.output_item.done", output_index=index, item=item)

    def fail(self, code: str, message: str) -> Iterator[JSON]:
        """`response.failed`, for a stream that broke after it started: the output written so
        far and the error (`code` one of OpenAI's, such as `server_error`)."""
        yield from self.start()
        yield from self._close_open()  # the text written so far stays in the output
        self.final = {
            **self.base,
            "status": "failed",
            "output": self._output,
            "error": {"code": code, "message": message},
        }
        yield self._event("response.failed", response=self.final)

    def _text_delta(self, kind: str, text: str) -> Iterator[JSON]:
        if self._open != kind:
            yield from self._close_open()
            yield from self._open_item(kind)
        self._text += text
        item = self._output[-1]
        index = len(self._output) - 1
        if kind == "message":
            yield self._event(
                "response.output_text.delta",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                delta=text,
                logprobs=[],
            )
        else:
            yield self._event(
                "response.reasoning_summary_text.delta",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                delta=text,
            )

    def _open_item(self, kind: str) -> Iterator[JSON]:
        self._open = kind
        self._text = ""
        index = len(self._output)
        if kind == "message":
            item = message_item(new_item_id("msg"), "", status="in_progress")
            item["content"] = []
            self._output.append(item)
            yield self._event("response.output_item.added", output_index=index, item=item)
            yield self._event(
                "response.content_part.added",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part={"type": "output_text", "text": "", "annotations": []},
            )
        else:
            item = {"id": new_item_id("rs"), "type": "reasoning", "summary": []}
            self._output.append(item)
            yield self._event("response.output_item.added", output_index=index, item=item)
            yield self._event(
                "response.reasoning_summary_part.added",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                part={"type": "summary_text", "text": ""},
            )

    def _close_open(self) -> Iterator[JSON]:
        if self._open is None:
            return
        index = len(self._output) - 1
        item_id = self._output[index]["id"]
        text = self._text
        if self._open == "message":
            part = {"type": "output_text", "text": text, "annotations": []}
            yield self._event(
                "response.output_text.done",
                item_id=item_id,
                output_index=index,
                content_index=0,
                text=text,
                logprobs=[],
            )
            yield self._event(
                "response.content_part.done",
                item_id=item_id,
                output_index=index,
                content_index=0,
                part=part,
            )
            self._output[index] = message_item(item_id, text)
        else:
            part = {"type": "summary_text", "text": text}
            yield self._event(
                "response.reasoning_summary_text.done",
                item_id=item_id,
                output_index=index,
                summary_index=0,
                text=text,
            )
            yield self._event(
                "response.reasoning_summary_part.done",
                item_id=item_id,
                output_index=index,
                summary_index=0,
                part=part,
            )
            self._output[index] = reasoning_item(item_id, text)
        yield self._event("response.output_item.done", output_index=index, item=self._output[index])
        self._open = None

    def _tool_call(self, call: Any) -> Iterator[JSON]:
        position = call.get("index", 0)
        function = call.get("function") or {}
        known = self._calls.get(position)
        if known is None:
            yield from self._close_open()
            item = function_call_item(
                new_item_id("fc"),
                str(call.get("id") or new_item_id("call")),
                str(function.get("name") or ""),
                "",
                self._namespaced,
            )
            item["status"] = "in_progress"
            known = self._calls[position] = _Call(len(self._output), item)
            self._output.append(item)
            yield self._event(
                "response.output_item.added", output_index=known.output_index, item=dict(item)
            )
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            known.item["arguments"] += arguments
            yield self._event(
                "response.function_call_arguments.delta",
                item_id=known.item["id"],
                output_index=known.output_index,
                delta=arguments,
            )
