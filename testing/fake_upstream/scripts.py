"""Scripted replies: queues of answers consumed one per request for a model name.

This is how a test says "call execute_sql, then answer with the row". When a model's queue is
empty, requests fall back to the behaviour its name describes.

A script `by_turn` is not consumed: each request gets the reply for its place in its own tool
loop (`Prompt.turn`: the model's replies since the conversation's last user message), so many
conversations at once each play the whole script (a load test's tool loops). A queued reply
for the same model goes first.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator


class ScriptedToolCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)


class ScriptedErrorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int = Field(ge=400, le=599)
    message: str | None = None
    type: str | None = None
    code: str | None = None


class ScriptedReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    tool_calls: list[ScriptedToolCallIn] | None = None
    error: ScriptedErrorIn | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ScriptedReplyIn:
        given = [self.text is not None, bool(self.tool_calls), self.error is not None]
        if sum(given) == 0:
            raise ValueError("a reply needs one of 'text', 'tool_calls' or 'error'")
        if self.error is not None and sum(given) > 1:
            raise ValueError("an 'error' reply cannot also have 'text' or 'tool_calls'")
        return self


class ScriptIn(BaseModel):
    """Body of `POST /__fake__/script`."""

    model_config = ConfigDict(extra="forbid")

    model: str
    replies: list[ScriptedReplyIn] = Field(min_length=1)
    by_turn: bool = False


@dataclass(frozen=True, slots=True)
class ScriptedToolCall:
    name: str
    arguments: str  # JSON text


@dataclass(frozen=True, slots=True)
class ScriptedError:
    status: int
    message: str | None = None
    type: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class ScriptedReply:
    text: str | None = None
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    error: ScriptedError | None = None


def _arguments_json(arguments: dict[str, Any] | str) -> str:
    if isinstance(arguments, str):
        return arguments
    return orjson.dumps(arguments).decode()


def from_wire(reply: ScriptedReplyIn) -> ScriptedReply:
    calls = tuple(
        ScriptedToolCall(call.name, _arguments_json(call.arguments))
        for call in reply.tool_calls or ()
    )
    error = None
    if reply.error is not None:
        error = ScriptedError(
            reply.error.status, reply.error.message, reply.error.type, reply.error.code
        )
    return ScriptedReply(reply.text, calls, error)


class ScriptBook:
    """Per-model FIFO queues, and per-model scripts played by turn. Locked because tests may
    script from another thread."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[ScriptedReply]] = {}
        self._by_turn: dict[str, tuple[ScriptedReply, ...]] = {}
        self._lock = threading.Lock()

    def add(self, model: str, replies: list[ScriptedReply]) -> None:
        with self._lock:
            self._queues.setdefault(model, deque()).extend(replies)

    def play_by_turn(self, model: str, replies: list[ScriptedReply]) -> None:
        """Every conversation with `model` gets `replies[turn]`; a new script replaces the
        model's old one."""
        with self._lock:
            self._by_turn[model] = tuple(replies)

    def add_wire(self, script: ScriptIn) -> None:
        replies = [from_wire(reply) for reply in script.replies]
        if script.by_turn:
            self.play_by_turn(script.model, replies)
        else:
            self.add(script.model, replies)

    def take(self, model: str, turn: int = 0) -> ScriptedReply | None:
        """The next queued reply for `model`, else its by-turn script's reply for `turn`
        (None past the script's end: the model's behaviour answers)."""
        if not self._queues and not self._by_turn:  # the common case: no lock needed
            return None
        with self._lock:
            queue = self._queues.get(model)
            if not queue:
                script = self._by_turn.get(model, ())
                return script[turn] if turn < len(script) else None
            reply = queue.popleft()
            if not queue:
                del self._queues[model]
            return reply

    def pending(self) -> dict[str, int]:
        with self._lock:
            return {model: len(queue) for model, queue in self._queues.items()}

    def models(self) -> list[str]:
        with self._lock:
            return list(dict.fromkeys([*self._queues, *self._by_turn]))

    def clear(self, model: str | None = None) -> None:
        with self._lock:
            if model is None:
                self._queues.clear()
                self._by_turn.clear()
            else:
                self._queues.pop(model, None)
                self._by_turn.pop(model, None)
