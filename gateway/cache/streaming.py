"""Chat streams and cached completions, both ways.

A streamed miss is assembled into one `chat.completion` so that it can be stored (and later
served to streaming and non-streaming requests alike); a hit on a streaming request is
replayed as `chat.completion.chunk`s that any OpenAI client parses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class _Choice:
    role: str = "assistant"
    content: list[str] = field(default_factory=list)
    saw_content: bool = False
    tool_calls: dict[int, JSON] = field(default_factory=dict)
    finish_reason: str | None = None

    def add(self, delta: JSON) -> None:
        if isinstance(delta.get("role"), str):
            self.role = delta["role"]
        text = delta.get("content")
        if isinstance(text, str):
            self.content.append(text)
            self.saw_content = True
        for call in delta.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            slot = self.tool_calls.setdefault(
                int(call.get("index", 0)),
                {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
            )
            if call.get("id"):
                slot["id"] = call["id"]
            if call.get("type"):
                slot["type"] = call["type"]
            function = call.get("function") or {}
            if function.get("name"):
                slot["function"]["name"] += function["name"]
            if function.get("arguments"):
                slot["function"]["arguments"] += function["arguments"]

    def message(self) -> JSON:
        message: JSON = {
            "role": self.role,
            "content": "".join(self.content) if self.saw_content else None,
        }
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        return message


@dataclass
class ChunkAssembler:
    """Feed it every upstream chunk; `completion()` is the equivalent non-streamed answer."""

    header: JSON = field(default_factory=dict)
    choices: dict[int, _Choice] = field(default_factory=dict)
    usage: JSON | None = None

    def add(self, chunk: JSON) -> None:
        for name in ("id", "created", "model", "system_fingerprint"):
            if name in chunk and name not in self.header:
                self.header[name] = chunk[name]
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for raw in chunk.get("choices") or []:
            if not isinstance(raw, dict):
                continue
            choice = self.choices.setdefault(int(raw.get("index", 0)), _Choice())
            if isinstance(raw.get("delta"), dict):
                choice.add(raw["delta"])
            if raw.get("finish_reason"):
                choice.finish_reason = raw["finish_reason"]

    def completion(self) -> JSON | None:
        """None when the stream never finished a choice (cut short: not worth caching)."""
        if not self.choices or any(c.finish_reason is None for c in self.choices.values()):
            return None
        result: JSON = {**self.header, "object": "chat.completion"}
        result["choices"] = [
            {
                "index": index,
                "message": self.choices[index].message(),
                "finish_reason": self.choices[index].finish_reason,
            }
            for index in sorted(self.choices)
        ]
        if self.usage is not None:
            result["usage"] = self.usage
        return result


def chunks_from_completion(completion: JSON) -> list[JSON]:
    """The replay of a cached chat completion: content, then finish reasons, then usage."""
    header = {
        "id": completion.get("id", "chatcmpl-cached"),
        "object": "chat.completion.chunk",
        "created": completion.get("created", 0),
        "model": completion.get("model", ""),
    }
    if completion.get("system_fingerprint") is not None:
        header["system_fingerprint"] = completion["system_fingerprint"]
    chunks: list[JSON] = []
    finals: list[JSON] = []
    for choice in completion.get("choices") or []:
        index = choice.get("index", 0)
        message = choice.get("message") or {}
        delta: JSON = {"role": message.get("role", "assistant"), "content": message.get("content")}
        if message.get("tool_calls"):
            delta["tool_calls"] = [
                {"index": i, **call} for i, call in enumerate(message["tool_calls"])
            ]
        chunks.append(
            {**header, "choices": [{"index": index, "delta": delta, "finish_reason": None}]}
        )
        finals.append(
            {"index": index, "delta": {}, "finish_reason": choice.get("finish_reason", "stop")}
        )
    chunks.append({**header, "choices": finals})
    if isinstance(completion.get("usage"), dict):
        chunks.append({**header, "choices": [], "usage": completion["usage"]})
    return chunks


async def replay(chunks: list[JSON]) -> AsyncIterator[JSON]:
    for chunk in chunks:
        yield chunk
