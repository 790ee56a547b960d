"""Carrying a passed-through Response (or its events) through the chat-shaped call path.

The router, hooks and cache speak chat: a result must have chat `usage` for spend and limits,
and a stream is a sequence of chunks whose `usage` the relay records. So an upstream Response
travels wrapped (`CARRIED_RESPONSE`, with its usage in chat's shape beside it), and each
upstream event travels as `{CARRIED_EVENT: event}`, followed at the end by one usage chunk.
The route unwraps them and gives the response the gateway's own id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from common.responses.response import chat_usage
from gateway.providers.base import JSON

CARRIED_RESPONSE = "toolrelay_response"
CARRIED_EVENT = "toolrelay_event"
TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def carried_response(response: JSON) -> JSON:
    return {CARRIED_RESPONSE: response, "usage": chat_usage(response.get("usage"))}


async def carried_events(events: AsyncIterator[JSON]) -> AsyncIterator[JSON]:
    async for event in events:
        yield {CARRIED_EVENT: event}
        response = event.get("response")
        if event.get("type") in TERMINAL_EVENTS and isinstance(response, dict):
            yield {"choices": [], "usage": chat_usage(response.get("usage"))}


def adopted(response: JSON, base: JSON) -> JSON:
    """The upstream's response as the gateway's: its id, the client's model name and
    `previous_response_id` (the upstream saw neither)."""
    return {
        **response,
        "id": base["id"],
        "model": base["model"],
        "previous_response_id": base.get("previous_response_id"),
    }


def adopted_event(event: JSON, base: JSON) -> JSON:
    response: Any = event.get("response")
    if isinstance(response, dict):
        return {**event, "response": adopted(response, base)}
    return event
