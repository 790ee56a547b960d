"""Serve the legacy `/completions` API through a chat-only provider, both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gateway.errors import BadRequestError
from gateway.providers.base import JSON

_CHAT_ONLY_FIELDS = ("echo", "best_of", "suffix", "prompt")


def prompt_text(body: JSON) -> str:
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        return prompt[0]
    raise BadRequestError(
        "'prompt' must be a string (or a list of one string) for this model.", param="prompt"
    )


def chat_body_from_completion(body: JSON) -> JSON:
    chat = {k: v for k, v in body.items() if k not in _CHAT_ONLY_FIELDS}
    chat["messages"] = [{"role": "user", "content": prompt_text(body)}]
    return chat


def _as_text_completion(chat: JSON, part: str) -> JSON:
    """A chat completion (part="message") or chunk (part="delta") in the legacy text shape."""
    choices = [
        {
            "text": (choice.get(part) or {}).get("content") or "",
            "index": choice.get("index", 0),
            "logprobs": None,
            "finish_reason": choice.get("finish_reason"),
        }
        for choice in chat.get("choices") or []
    ]
    result: dict[str, Any] = {
        "id": chat.get("id"),
        "object": "text_completion",
        "created": chat.get("created"),
        "model": chat.get("model"),
        "choices": choices,
    }
    if chat.get("usage") is not None:
        result["usage"] = chat["usage"]
    return result


def completion_from_chat(chat: JSON) -> JSON:
    return _as_text_completion(chat, "message")


def completion_chunk_from_chat(chunk: JSON) -> JSON:
    return _as_text_completion(chunk, "delta")


async def completion_chunks(chat_chunks: AsyncIterator[JSON]) -> AsyncIterator[JSON]:
    async for chunk in chat_chunks:
        yield completion_chunk_from_chat(chunk)
