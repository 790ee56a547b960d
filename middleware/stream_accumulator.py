"""One streamed model call, accumulated: text and reasoning deltas pass through at once,
`tool_calls` deltas are gathered by index until the model finishes.

The chunks arrive as the gateway sent them, parsed but unchecked; this is where they are read,
so a field of the wrong type is skipped here rather than trusted. The result is a
`chat.completion` of the contract's shape, so the tool loop treats both upstream modes alike.
A call whose id never came has an empty one (the loop names it); a delta without an `index`
starts a new call (some OpenAI-compatible servers send whole calls that way).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common.chat import AssistantMessage, ChatCompletion, Delta, OutputToolCall, Usage
from middleware.usage import read_usage


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def message(self) -> OutputToolCall:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": "".join(self.arguments)},
        }


@dataclass
class StreamAccumulator:
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: dict[int, _PendingCall] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage | None = None
    id: str = ""
    created: int = 0
    model: str = ""

    def add(self, chunk: dict[str, object]) -> Delta | None:
        """Take one chunk; return the delta to forward to the client now (text or
        reasoning only), or None."""
        if not self.id:
            self._envelope(chunk)
        usage = read_usage(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return None
        choice: dict[str, object] = choices[0]
        finish = choice.get("finish_reason")
        if isinstance(finish, str):
            self.finish_reason = finish
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return None
        raw_calls = delta.get("tool_calls")
        if isinstance(raw_calls, list):
            for raw in raw_calls:
                if isinstance(raw, dict):
                    self._add_call(raw)
        forward: Delta = {}
        content = delta.get("content")
        if isinstance(content, str) and content:
            forward["content"] = content
            self.content.append(content)
        reasoning = delta.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            forward["reasoning_content"] = reasoning
            self.reasoning.append(reasoning)
        return forward or None

    def _envelope(self, chunk: dict[str, object]) -> None:
        """The id, created and model that the gateway's chunks all repeat."""
        if isinstance(chunk.get("id"), str):
            self.id = str(chunk["id"])
        created = chunk.get("created")
        if isinstance(created, int):
            self.created = created
        if isinstance(chunk.get("model"), str):
            self.model = str(chunk["model"])

    def _add_call(self, raw: dict[str, object]) -> None:
        index = raw.get("index")
        position = index if isinstance(index, int) else len(self.calls)
        pending = self.calls.setdefault(position, _PendingCall())
        call_id = raw.get("id")
        if isinstance(call_id, str) and call_id:
            pending.id = call_id
        function = raw.get("function")
        if isinstance(function, dict):
            name = function.get("name")
            if isinstance(name, str) and name:
                pending.name += name
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                pending.arguments.append(arguments)

    def response(self) -> ChatCompletion:
        """The whole call as one `chat.completion` body."""
        message: AssistantMessage = {"role": "assistant", "content": "".join(self.content) or None}
        if self.reasoning:
            message["reasoning_content"] = "".join(self.reasoning)
        if self.calls:
            message["tool_calls"] = [self.calls[i].message() for i in sorted(self.calls)]
        completion: ChatCompletion = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
        }
        if self.usage is not None:
            completion["usage"] = self.usage
        return completion
