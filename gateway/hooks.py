"""Seams around every inference call: access checks and limits before, spend and metrics after.

Hooks are called by the inference routes in order. `pre_call` may refuse by raising a
`GatewayError` (no upstream call happens). `post_call` is always called exactly once for a
request whose `pre_call` ran, on success or failure, after the response (or the stream) has
ended; it must not block the event loop for long (queue the work).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from gateway.auth import Principal
from gateway.deployments import Deployment

CallType = Literal[
    "chat",
    "completion",
    "embedding",
    "messages",
    "responses",
    "image_generation",
    "speech",
    "transcription",
    "moderation",
    "rerank",
]


@dataclass(slots=True)
class CallRecord:
    request_id: str
    principal: Principal
    call_type: CallType
    model_group: str
    body: dict[str, Any]
    stream: bool = False
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    deployment: Deployment | None = None
    status: Literal["success", "failure"] = "success"
    http_status: int = 200
    error_type: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    cache_hit: bool = False
    upstream_seconds: float = 0.0
    first_token_seconds: float | None = None
    queue_seconds: float | None = None  # arrival to the first pre_call (metrics)
    # media units, for models priced per image, per character or per second (spend)
    images: int = 0
    characters: int = 0
    audio_seconds: float = 0.0
    audio_tokens: int = 0  # of prompt_tokens: audio in, priced as such where a model says so
    queries: int = 0  # rerank searches (Cohere's search units)
    # the answer, for store_prompts_in_spend_logs: a hook's pre_call sets capture_response,
    # and the chat routes then keep the response (a stream's, assembled)
    capture_response: bool = False
    response: dict[str, Any] | None = None

    @property
    def end_user(self) -> str | None:
        user = self.body.get("user")
        return user if isinstance(user, str) and user else None

    def record_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(prompt, int):
            self.prompt_tokens = prompt
        if isinstance(completion, int):
            self.completion_tokens = completion
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict) and isinstance(details.get("cached_tokens"), int):
            self.cached_tokens = details["cached_tokens"]
        written = usage.get("cache_creation_input_tokens")
        if isinstance(written, int):
            self.cache_write_tokens = written


class RequestHook(Protocol):
    async def pre_call(self, record: CallRecord) -> None: ...

    async def post_call(self, record: CallRecord) -> None: ...
