"""A fake LLM upstream for tests and benchmarks, with behaviour chosen by model name.

Run it:
    python -m testing.fake_upstream --host 127.0.0.1 --port 8999 [--require-key KEY]
    with serve_in_thread(FakeUpstream()) as base_url: ...          # in-process, free port
    tests/testing/fake_upstream/harness.py: running_fake_upstream(log_dir)  # subprocess

OpenAI routes (also without `/v1`): POST /v1/chat/completions (stream or not, honouring
`stream_options.include_usage`), POST /v1/completions, POST /v1/embeddings, GET /v1/models.
Media (`formats/openai_media.py`, Azure's spellings too): POST /v1/images/generations,
/v1/audio/speech, and the multipart uploads /v1/audio/transcriptions and /v1/audio/translations,
whose form the fake checks and records (fields, and the file's name, type and size).
POST /v1/moderations and POST /v1/rerank (vLLM's and Jina's shape): `formats/openai_extras.py`.

Model names, tokens joined by `+` (`echo+latency-50`):
    anything else          "Hello from the fake upstream." (also `fixed`)
    echo                   the last user message's text
    size-N                 about N bytes of text (exactly N ASCII bytes)
    latency-MS             wait before the body / before the first stream chunk
    slow-stream-MS         MS between stream chunks, the first sent at once
    error-STATUS           OpenAI-shaped error (429 adds `retry-after: 1`)
    context-window         400, code context_length_exceeded
    content-policy         400, code content_policy_violation
    malformed              200 whose body (or one SSE event) is not JSON
    disconnect             a couple of chunks (half a body), then the connection drops
    hang                   never answers, until the client goes away
    tool-call              one call to the request's first tool, arguments `{}`
    parallel-tool-calls    one call to each of the first two tools

Scripts: POST /__fake__/script {"model", "replies": [{"text"} | {"tool_calls": [{"name",
"arguments"}]} | {"error": {"status", "message"}}]} queues replies for that model name,
consumed one per request; with "by_turn": true they are kept, and every conversation gets the
reply for its turn (its model replies since its last user message: the first call of a tool
loop `replies[0]`, the one after its tool results `replies[1]`), so concurrent conversations
each play the script. DELETE /__fake__/script clears. In process: `upstream.scripts`.

Recording: GET /__fake__/requests[?model=] lists what was received (method, path, headers,
JSON body, time, response status, whether it completed); DELETE clears. In process:
`upstream.recorder`. It is a ring buffer (`--record-limit`, default 10000).

Other wire formats (Anthropic with `count_tokens`, Gemini with `countTokens`, Ollama, Azure,
OpenAI's Responses API at `/v1/responses` and Azure's `/openai/v1/responses`, Cohere's
`/v2/chat`, `/v2/embed` and `/v2/rerank`, Vertex AI's Gemini and Claude routes, and Bedrock's
Converse API with SigV4-checked requests and event-stream replies) are modules under `formats/`
that parse into the neutral `Prompt` and render the neutral `Reply`; see
`formats/__init__.py`.

Vertex AI: register a service account's public key with POST /__fake__/google/service_accounts
{"client_email", "public_key" (PEM), "project_id"[, "token_lifetime"]} and point the key's
`token_uri` at `/token`: the fake checks the JWT assertion's signature and mints the only
bearer tokens its Vertex routes accept (see `google_oauth.py`).
"""

from __future__ import annotations

from .app import FORMATS, FakeUpstream
from .behaviour import FIXED_TEXT, Behaviour, Content
from .recorder import RecordedRequest, Recorder
from .reply import Fault, Prompt, Reply, ReplyError, Timing, ToolCall, Usage
from .runner import ServerTls, command, command_args, serve_in_thread, uvicorn_config
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
    "ServerTls",
    "Timing",
    "ToolCall",
    "Usage",
    "command",
    "command_args",
    "serve_in_thread",
    "uvicorn_config",
]
