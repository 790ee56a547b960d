"""The format-neutral core: what a request asked for, and what the fake model answers.

A wire format (OpenAI today; Anthropic, Gemini, Ollama, Azure next) parses its request into a
`Prompt`, the scenario layer turns that into a `Reply`, and the same format renders the reply.
Nothing in this module knows any wire format.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


def estimate_tokens(text_length: int) -> int:
    """About four characters per token, like OpenAI's rule of thumb; never zero."""
    return max(1, (text_length + 3) // 4)


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the scenario layer needs from any request, whatever its wire format."""

    model: str
    last_user_text: str
    tool_names: tuple[str, ...]
    prompt_chars: int
    stream: bool = False
    include_usage: bool = False
    last_tool_text: str = ""  # the newest tool result in the conversation (OpenAI chat only)
    # the model's replies since the conversation's last user message: 0 for a new question, 1
    # after one round of tool results (OpenAI chat only; a by-turn script's index)
    turn: int = 0


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as every provider puts it on the wire


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ReplyError:
    """An upstream error; each format renders it in its own error shape."""

    status: int
    message: str
    type: str
    code: str | None = None
    param: str | None = None
    headers: tuple[tuple[bytes, bytes], ...] = ()


class Fault(enum.Enum):
    """Ways the upstream misbehaves at the transport level rather than with an error status."""

    NONE = "none"
    MALFORMED = "malformed"
    DISCONNECT = "disconnect"
    HANG = "hang"
    # Legal but unusual SSE framing: each JSON `data:` field pretty-printed over several
    # `data:` lines, with comment lines before and inside the event. A reader that joins an
    # event's data lines gets the same JSON; a line-at-a-time reader gets fragments.
    MULTILINE_DATA = "sse-multiline"


@dataclass(frozen=True, slots=True)
class Timing:
    latency_ms: int = 0  # before the body, or before the first stream chunk
    chunk_delay_ms: int = 0  # between stream chunks


NO_TIMING = Timing()


@dataclass(frozen=True, slots=True)
class Reply:
    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=lambda: Usage(1, 1))
    finish_reason: str = "stop"
    error: ReplyError | None = None
    fault: Fault = Fault.NONE
    timing: Timing = NO_TIMING
    headers: tuple[tuple[bytes, bytes], ...] = ()  # extra answer headers (rate limits)
