"""One streamed model call, accumulated: text and reasoning deltas pass through at once,
`tool_calls` deltas are gathered by index until the model finishes.

The result is shaped like a non-streaming `chat.completion`, so the tool loop treats both
upstream modes alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
PASSED_THROUGH = ("content", "reasoning_content")


@dataclass
class _PendingCall:
    id: str = ""
    type: str = "function"
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def message(self) -> JSON:
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.name, "arguments": "".join(self.arguments)},
        }


@dataclass
class StreamAccumulator:
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: dict[int, _PendingCall] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: JSON | None = None
    envelope: JSON = field(default_factory=dict)

    def add(self, chunk: JSON) -> JSON | None:
        """Take one chunk; return the delta to forward to the client now (text or
        reasoning only), or None."""
        if not self.envelope:
            self.envelope = {k: chunk[k] for k in ("id", "created", "model") if k in chunk}
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return None
        choice = choices[0]
        finish = choice.get("finish_reason")
        if isinstance(finish, str):
            self.finish_reason = finish
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return None
        for raw in delta.get("tool_calls") or ():
            if isinstance(raw, dict):
                self._add_call(raw)
        forward = {
            key: delta[key]
            for key in PASSED_THROUGH
            if isinstance(delta.get(key), str) and delta[key]
        }
        if not forward:
            return None
        if "content" in forward:
            self.content.append(forward["content"])
        if "reasoning_content" in forward:
            self.reasoning.append(forward["reasoning_content"])
        return forward

    def _add_call(self, raw: JSON) -> None:
        index = raw.get("index")
        position = index if isinstance(index, int) else len(self.calls)
        pending = self.calls.setdefault(position, _PendingCall())
        if isinstance(raw.get("id"), str) and raw["id"]:
            pending.id = raw["id"]
        if isinstance(raw.get("type"), str) and raw["type"]:
            pending.type = raw["type"]
        function = raw.get("function")
        if isinstance(function, dict):
            if isinstance(function.get("name"), str) and function["name"]:
                pending.name += function["name"]
            if isinstance(function.get("arguments"), str):
                pending.arguments.append(function["arguments"])

    def response(self) -> JSON:
        """The whole call as one `chat.completion` body."""
        message: JSON = {"role": "assistant", "content": "".join(self.content) or None}
        if self.reasoning:
            message["reasoning_content"] = "".join(self.reasoning)
        if self.calls:
            message["tool_calls"] = [self.calls[i].message() for i in sorted(self.calls)]
        return {
            **self.envelope,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
            "usage": self.usage,
        }
