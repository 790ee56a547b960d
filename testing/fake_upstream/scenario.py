"""The scenario layer: from a neutral `Prompt` to a neutral `Reply`.

A scripted reply for the model name wins over what the name describes; the name still decides
how the reply is delivered (latency, chunk pacing, transport faults).
"""

from __future__ import annotations

import dataclasses

from . import errors
from .behaviour import FIXED_TEXT, Behaviour, BehaviourCache, Content
from .ids import IdSource
from .reply import Prompt, Reply, ReplyError, ToolCall, Usage, estimate_tokens
from .scripts import ScriptBook, ScriptedError, ScriptedReply

_FILLER = "The quick brown fox jumps over the lazy dog while the fake upstream keeps talking. "


def sized_text(size: int) -> str:
    """Exactly `size` ASCII bytes of word-like text, so streams split into realistic chunks."""
    repeats = size // len(_FILLER) + 1
    return (_FILLER * repeats)[:size]


class Scenario:
    def __init__(self, scripts: ScriptBook, ids: IdSource) -> None:
        self.scripts = scripts
        self._ids = ids
        self._behaviours = BehaviourCache()
        self._sized: dict[int, str] = {}

    def behaviour(self, model: str) -> Behaviour:
        return self._behaviours.get(model)

    def plan(self, prompt: Prompt) -> Reply:
        behaviour = self._behaviours.get(prompt.model)
        reply = self._plan(prompt, behaviour)
        if behaviour.ratelimit_remaining is None:
            return reply
        remaining = behaviour.ratelimit_remaining
        headers = (
            (b"x-ratelimit-remaining-requests", str(remaining).encode()),
            (b"x-ratelimit-remaining-tokens", str(remaining * 1000).encode()),
        )
        return dataclasses.replace(reply, headers=headers)

    def _plan(self, prompt: Prompt, behaviour: Behaviour) -> Reply:
        scripted = self.scripts.take(prompt.model, prompt.turn)
        if scripted is not None:
            return self._scripted(prompt, behaviour, scripted)
        if behaviour.error is not None:
            return Reply(error=behaviour.error, timing=behaviour.timing, fault=behaviour.fault)
        content = behaviour.content
        if content is Content.TOOL_CALL and prompt.tool_names:
            calls: tuple[ToolCall, ...] = (
                ToolCall(self._ids.tool_call(), prompt.tool_names[0], "{}"),
            )
            return self._with_calls(prompt, behaviour, calls)
        if content is Content.PARALLEL_TOOL_CALLS and prompt.tool_names:
            calls = tuple(
                ToolCall(self._ids.tool_call(), name, "{}") for name in prompt.tool_names[:2]
            )
            return self._with_calls(prompt, behaviour, calls)
        return self._with_text(prompt, behaviour, self._text(content, behaviour, prompt))

    def _text(self, content: Content, behaviour: Behaviour, prompt: Prompt) -> str:
        if content is Content.ECHO:
            return prompt.last_user_text
        if content is Content.TOOL_RESULT:
            return prompt.last_tool_text or FIXED_TEXT
        if content is Content.SIZED:
            text = self._sized.get(behaviour.size)
            if text is None:
                if len(self._sized) > 256:
                    self._sized.clear()
                text = self._sized[behaviour.size] = sized_text(behaviour.size)
            return text
        # A tool-call model given no tools answers in text, as a real model would.
        return FIXED_TEXT

    def _with_text(self, prompt: Prompt, behaviour: Behaviour, text: str) -> Reply:
        usage = Usage(estimate_tokens(prompt.prompt_chars), estimate_tokens(len(text)))
        return Reply(text=text, usage=usage, timing=behaviour.timing, fault=behaviour.fault)

    def _with_calls(
        self,
        prompt: Prompt,
        behaviour: Behaviour,
        calls: tuple[ToolCall, ...],
        text: str | None = None,
    ) -> Reply:
        produced = sum(len(call.name) + len(call.arguments) for call in calls) + len(text or "")
        usage = Usage(estimate_tokens(prompt.prompt_chars), estimate_tokens(produced))
        return Reply(
            text=text,
            tool_calls=calls,
            usage=usage,
            finish_reason="tool_calls",
            timing=behaviour.timing,
            fault=behaviour.fault,
        )

    def _scripted(self, prompt: Prompt, behaviour: Behaviour, scripted: ScriptedReply) -> Reply:
        if scripted.error is not None:
            return Reply(error=_scripted_error(scripted.error), timing=behaviour.timing)
        if scripted.tool_calls:
            calls = tuple(
                ToolCall(self._ids.tool_call(), call.name, call.arguments)
                for call in scripted.tool_calls
            )
            return self._with_calls(prompt, behaviour, calls, scripted.text)
        return self._with_text(prompt, behaviour, scripted.text or "")


def _scripted_error(scripted: ScriptedError) -> ReplyError:
    error = errors.for_status(scripted.status, scripted.message)
    if scripted.type is not None:
        error = dataclasses.replace(error, type=scripted.type)
    if scripted.code is not None:
        error = dataclasses.replace(error, code=scripted.code)
    return error
