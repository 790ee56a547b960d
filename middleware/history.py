"""Incoming history: progress blocks in assistant messages become tool calls again.

Open WebUI sends the previous answers verbatim, blocks included. `rebuild` turns each run of
blocks into an assistant message with `tool_calls` plus one tool message per call, so the
model sees what it did (and the MCP calls of a turn that also called client tools are not
lost: the middleware stays stateless). `strip` just removes them.
"""

from __future__ import annotations

import itertools
from typing import Literal

from common.chat import Message, ToolCall
from middleware.progress import ProgressCall, has_blocks, split_content


def _call_messages(run: list[ProgressCall], text: str, ids: itertools.count[int]) -> list[Message]:
    calls: list[ToolCall] = []
    tool_messages: list[Message] = []
    for call in run:
        call_id = call.id or f"call_rebuilt_{next(ids)}"
        calls.append(
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
        )
        tool_messages.append({"role": "tool", "tool_call_id": call_id, "content": call.result})
    assistant: Message = {"role": "assistant", "content": text.strip() or None, "tool_calls": calls}
    return [assistant, *tool_messages]


def _rebuild(
    message: Message, content: str, ids: itertools.count[int], answered: set[str]
) -> list[Message]:
    out: list[Message] = []
    text = ""
    run: list[ProgressCall] = []
    for part in split_content(content):
        if isinstance(part, ProgressCall):
            # A block for a call the history already answers (the client's own tool,
            # which Open WebUI also renders as a block) must not be duplicated.
            if not part.id or part.id not in answered:
                run.append(part)
            continue
        if part.strip() and run:
            out.extend(_call_messages(run, text, ids))
            run, text = [], ""
        text += part
    if run:
        out.extend(_call_messages(run, text, ids))
        text = ""
    tail = message.copy()
    del tail["content"]
    if text.strip() or message.get("tool_calls"):
        tail["content"] = text.strip() or None
        out.append(tail)
    elif not out:
        tail["content"] = ""
        out.append(tail)
    return out


def _strip(message: Message, content: str) -> Message:
    text = "".join(part for part in split_content(content) if isinstance(part, str))
    stripped = message.copy()
    stripped["content"] = text.strip()
    return stripped


def _blocks_in(message: Message) -> str | None:
    """The content of an assistant message that carries progress blocks, else None."""
    content = message.get("content")
    if message["role"] == "assistant" and isinstance(content, str) and has_blocks(content):
        return content
    return None


def prepare_history(
    messages: list[Message], mode: Literal["rebuild", "strip"] = "rebuild"
) -> list[Message]:
    if not any(_blocks_in(m) is not None for m in messages):
        return messages
    ids = itertools.count(1)
    answered = {
        call_id for m in messages if m["role"] == "tool" and (call_id := m.get("tool_call_id"))
    }
    out: list[Message] = []
    for message in messages:
        content = _blocks_in(message)
        if content is None:
            out.append(message)
        elif mode == "strip":
            out.append(_strip(message, content))
        else:
            out.extend(_rebuild(message, content, ids, answered))
    return out
