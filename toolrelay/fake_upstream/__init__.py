"""A fake LLM upstream for tests and benchmarks, with behaviour chosen by model name.

    with serve_in_thread(FakeUpstream()) as base_url: ...
    python -m toolrelay.fake_upstream --host 127.0.0.1 --port 8999

Model names read as behaviours (`echo+latency-50`, `size-200`, `error-429`, `tool-call`,
`slow-stream-100`, `malformed`, `disconnect`, `hang`); see `behaviour.py`. Replies can also be
scripted per model name through `POST /__fake__/script` or `FakeUpstream.scripts`.
"""

from __future__ import annotations

from .app import FORMATS, FakeUpstream
from .behaviour import FIXED_TEXT, Behaviour, Content
from .recorder import RecordedRequest, Recorder
from .reply import Fault, Prompt, Reply, ReplyError, Timing, ToolCall, Usage
from .runner import command, command_args, serve_in_thread, uvicorn_config
from .scripts import ScriptBook, ScriptedError, ScriptedReply, ScriptedToolCall

__all__ = [
    "FIXED_TEXT",
    "FORMATS",
    "Behaviour",
    "Content",
    "FakeUpstream",
    "Fault",
    "Prompt",
    "RecordedRequest",
    "Recorder",
    "Reply",
    "ReplyError",
    "ScriptBook",
    "ScriptedError",
    "ScriptedReply",
    "ScriptedToolCall",
    "Timing",
    "ToolCall",
    "Usage",
    "command",
    "command_args",
    "serve_in_thread",
    "uvicorn_config",
]
