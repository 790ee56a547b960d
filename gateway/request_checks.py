"""Where a request body is checked: once, at the route, before any hook's work is undone.

The checks themselves are `common.chat_validation`'s (shared with the middleware); this module
maps their `ChatBodyError` to the gateway's `BadRequestError`, so a bad body is an OpenAI-style
400 naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.chat import ChatRequest
from common.chat_validation import ChatBodyError, check_body_shape, parse_chat_request
from gateway.errors import BadRequestError

BodyCheck = Callable[[dict[str, Any]], object]


def _bad_request(exc: ChatBodyError) -> BadRequestError:
    return BadRequestError(exc.message, param=exc.param, code=exc.code)


def chat_request(body: dict[str, Any]) -> ChatRequest:
    """A `/chat/completions` body: model, messages and the shape of every nested field."""
    try:
        return parse_chat_request(body)
    except ChatBodyError as exc:
        raise _bad_request(exc) from None


def shaped_body(body: dict[str, Any]) -> None:
    """Any other inference body: its chat-shaped fields (`stop`, `tools`, ...) are translatable."""
    try:
        check_body_shape(body)
    except ChatBodyError as exc:
        raise _bad_request(exc) from None


def completion_body(body: dict[str, Any]) -> None:
    """A legacy `/completions` body: a `prompt`, then the shape of the rest."""
    if "prompt" not in body:
        raise BadRequestError("Missing required parameter: 'prompt'.", param="prompt")
    shaped_body(body)


def embedding_body(body: dict[str, Any]) -> None:
    """An `/embeddings` body: a non-empty `input`, then the shape of the rest."""
    if body.get("input") in (None, "", []):
        raise BadRequestError("Missing required parameter: 'input'.", param="input")
    shaped_body(body)
