"""`gen_ai.operation.name` for each of the gateway's call types: the semantic conventions'
names where they have one, else ours. The request's span and its router attempts say the
same. Every call type needs an entry (a test walks CallType): a missing one was a KeyError,
a 500 for that route whenever tracing was on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.hooks import CallType

OPERATIONS: dict[CallType, str] = {
    "chat": "chat",
    "completion": "text_completion",
    "embedding": "embeddings",
    "messages": "chat",
    "responses": "chat",
    "image_generation": "image_generation",
    "speech": "speech",
    "transcription": "transcription",
    "moderation": "moderation",
    "rerank": "rerank",
}
