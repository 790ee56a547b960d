"""Read a model name as a behaviour: `echo+latency-50`, `size-200`, `error-429`, `tool-call`,
`tool-result` (answers with the last tool result in the conversation, so a test can see that a
tool's real output reached the model), `ratelimit-N` (the answer says N requests and N*1000
tokens remain, as OpenAI's headers do).

Tokens are joined by `+`. Each token is looked up in a registry, first as an exact name, then
by prefix with an integer argument; a token that matches nothing (such as `gpt-4o`) leaves the
behaviour unchanged, so any unknown model name answers with the fixed text.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from . import errors
from .reply import Fault, ReplyError, Timing

FIXED_TEXT = "Hello from the fake upstream."


class Content(enum.Enum):
    FIXED = "fixed"
    ECHO = "echo"
    TOOL_RESULT = "tool-result"  # answers with the last tool result it was given
    SIZED = "size"
    TOOL_CALL = "tool-call"
    PARALLEL_TOOL_CALLS = "parallel-tool-calls"


@dataclass(frozen=True, slots=True)
class Behaviour:
    content: Content = Content.FIXED
    size: int = 0
    timing: Timing = field(default_factory=Timing)
    error: ReplyError | None = None
    fault: Fault = Fault.NONE
    ratelimit_remaining: int | None = None  # answer with x-ratelimit-remaining-* headers


_Exact = Callable[[Behaviour], Behaviour]
_Numbered = Callable[[Behaviour, int], Behaviour]


def _content(content: Content) -> _Exact:
    return lambda b: dataclasses.replace(b, content=content)


def _fault(fault: Fault) -> _Exact:
    return lambda b: dataclasses.replace(b, fault=fault)


def _error(make: Callable[[], ReplyError]) -> _Exact:
    return lambda b: dataclasses.replace(b, error=make())


def _sized(b: Behaviour, n: int) -> Behaviour:
    return dataclasses.replace(b, content=Content.SIZED, size=n)


def _latency(b: Behaviour, ms: int) -> Behaviour:
    return dataclasses.replace(b, timing=dataclasses.replace(b.timing, latency_ms=ms))


def _slow_stream(b: Behaviour, ms: int) -> Behaviour:
    return dataclasses.replace(b, timing=dataclasses.replace(b.timing, chunk_delay_ms=ms))


def _ratelimit(b: Behaviour, remaining: int) -> Behaviour:
    return dataclasses.replace(b, ratelimit_remaining=remaining)


def _status_error(b: Behaviour, status: int) -> Behaviour:
    if not 400 <= status <= 599:
        return b
    return dataclasses.replace(b, error=errors.for_status(status))


_EXACT: dict[str, _Exact] = {
    "fixed": _content(Content.FIXED),
    "echo": _content(Content.ECHO),
    "tool-result": _content(Content.TOOL_RESULT),
    "tool-call": _content(Content.TOOL_CALL),
    "parallel-tool-calls": _content(Content.PARALLEL_TOOL_CALLS),
    "malformed": _fault(Fault.MALFORMED),
    "disconnect": _fault(Fault.DISCONNECT),
    "hang": _fault(Fault.HANG),
    "sse-multiline": _fault(Fault.MULTILINE_DATA),
    "context-window": _error(errors.context_window),
    "content-policy": _error(errors.content_policy),
}

# Longest prefix first, so `slow-stream-` is never read as something shorter.
_NUMBERED: tuple[tuple[str, _Numbered], ...] = (
    ("slow-stream-", _slow_stream),
    ("latency-", _latency),
    ("ratelimit-", _ratelimit),
    ("error-", _status_error),
    ("size-", _sized),
)


def parse(model: str) -> Behaviour:
    behaviour = Behaviour()
    for token in model.split("+"):
        exact = _EXACT.get(token)
        if exact is not None:
            behaviour = exact(behaviour)
            continue
        for prefix, apply in _NUMBERED:
            if token.startswith(prefix) and token[len(prefix) :].isdigit():
                behaviour = apply(behaviour, int(token[len(prefix) :]))
                break
    return behaviour


class BehaviourCache:
    """Model names repeat on every request; parse each once. Bounded so odd clients can't grow it."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._parsed: dict[str, Behaviour] = {}

    def get(self, model: str) -> Behaviour:
        found = self._parsed.get(model)
        if found is None:
            if len(self._parsed) >= self._limit:
                self._parsed.clear()
            found = self._parsed[model] = parse(model)
        return found
