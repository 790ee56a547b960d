"""The Gemini API (Google AI Studio): `generateContent`, `streamGenerateContent?alt=sse`,
`embedContent` and `batchEmbedContents` under `/v1beta/models/{model}:...`, with the key in
`x-goog-api-key` or `?key=`.

Replies look like the reference's examples: `candidates[0].content.parts` (text, a `thought`
part when `includeThoughts` was asked for, `functionCall` with an id), `finishReason`,
`usageMetadata`; image and speech answers (and Imagen's `:predict`) come from
`gemini_media`. Errors are `{"error": {"code", "message", "status"}}` with google.rpc status
names; a content-policy scenario is a blocked prompt (`promptFeedback.blockReason`, no
candidates), and an over-long prompt is INVALID_ARGUMENT with the API's token-count message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import orjson

from .. import embeddings
from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Reply, ReplyError, estimate_tokens
from ..state import UpstreamState
from . import Route
from .gemini_media import imagen_body, imagen_count, media_body, refused_body
from .gemini_wire import GeminiRequest, invalid, parse, signature_for
from .openai_media import answer
from .openai_wire import text_pieces

PREFIX = "/v1beta/models/{model}"
THOUGHT_TEXT = "Thinking about the request."
_RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}


def error_body(error: ReplyError) -> bytes:
    message = error.message
    if error.code == "context_length_exceeded":
        message = (
            "The input token count (9000) exceeds the maximum number of tokens allowed (8192)."
        )
    status = _RPC_STATUS.get(error.status, "UNKNOWN")
    body: dict[str, Any] = {"code": error.status, "message": message, "status": status}
    if error.code == "invalid_api_key":
        body["details"] = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
        ]
    return orjson.dumps({"error": body})


def api_key(exchange: Exchange) -> str | None:
    value = exchange.header(b"x-goog-api-key")
    if value is not None:
        return value.decode("latin-1")
    keys = parse_qs(exchange.query).get("key")
    return keys[0] if keys else None


class GenerateRenderer:
    def __init__(self, response_id: str, model: str, thoughts: bool) -> None:
        self._id = response_id
        self._model = model
        self._thoughts = thoughts

    def _usage(self, reply: Reply) -> dict[str, int]:
        usage = {
            "promptTokenCount": reply.usage.prompt_tokens,
            "candidatesTokenCount": reply.usage.completion_tokens,
            "totalTokenCount": reply.usage.total_tokens,
        }
        if self._thoughts:
            usage["thoughtsTokenCount"] = estimate_tokens(len(THOUGHT_TEXT))
            usage["totalTokenCount"] += usage["thoughtsTokenCount"]
        return usage

    def _response(self, parts: list[dict[str, Any]], finish: str | None, usage: Any) -> bytes:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        payload: dict[str, Any] = {
            "candidates": [candidate],
            "modelVersion": self._model,
            "responseId": self._id,
        }
        if usage is not None:
            payload["usageMetadata"] = usage
        return orjson.dumps(payload)

    def _parts(self, reply: Reply) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for call in reply.tool_calls:
            args = orjson.loads(call.arguments or "{}")
            parts.append(
                {
                    "functionCall": {"name": call.name, "args": args, "id": call.id},
                    "thoughtSignature": signature_for(call.id),
                }
            )
        return parts

    def _blocked(self, reply: Reply) -> bytes:
        return orjson.dumps(
            {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": self._usage(reply)}
        )

    def body(self, reply: Reply) -> bytes:
        if reply.finish_reason == "blocked":
            return self._blocked(reply)
        parts: list[dict[str, Any]] = []
        if self._thoughts:
            parts.append({"text": THOUGHT_TEXT, "thought": True})
        if reply.text:
            parts.append({"text": reply.text})
        parts += self._parts(reply)
        finish = _FINISH.get(reply.finish_reason, "STOP")
        return self._response(parts, finish, self._usage(reply))

    def frames(self, reply: Reply) -> Iterator[bytes]:
        if reply.finish_reason == "blocked":
            yield b"data: " + self._blocked(reply) + b"\r\n\r\n"
            return
        pending: list[list[dict[str, Any]]] = []
        if self._thoughts:
            pending.append([{"text": THOUGHT_TEXT, "thought": True}])
        pending += [[{"text": piece}] for piece in text_pieces(reply.text or "")]
        calls = self._parts(reply)
        if calls:
            pending.append(calls)
        if not pending:
            pending.append([{"text": ""}])
        finish = _FINISH.get(reply.finish_reason, "STOP")
        for index, parts in enumerate(pending):
            last = index == len(pending) - 1
            usage = self._usage(reply) if last else None
            yield b"data: " + self._response(parts, finish if last else None, usage) + b"\r\n\r\n"

    def error_body(self, error: ReplyError) -> bytes:
        return error_body(error)

    def malformed_body(self) -> bytes:
        return b'{"candidates": [{"content": {"parts": [{"te'

    def malformed_frame(self) -> bytes:
        return b'data: {"candidates": [{"content": \r\n\r\n'


async def _reject(exchange: Exchange, error: ReplyError) -> None:
    await exchange.respond(error.status, error_body(error), headers=error.headers)


async def _generate(state: UpstreamState, exchange: Exchange, body: Any, stream: bool) -> None:
    model = exchange.path_params["model"]
    if stream and "alt=sse" not in exchange.query:
        # Without alt=sse the API streams one JSON array; clients of this fake must ask for SSE.
        await _reject(exchange, invalid("this fake serves streamGenerateContent only with alt=sse"))
        return
    parsed = parse(body, model, stream=stream)
    if isinstance(parsed, ReplyError):
        await _reject(exchange, parsed)
        return
    request: GeminiRequest = parsed
    if request.media is not None:
        await _media(state, exchange, request)
        return
    reply = state.scenario.plan(request.prompt)
    if reply.error is not None and reply.error.code == "content_policy_violation":
        reply = Reply(usage=reply.usage, finish_reason="blocked", timing=reply.timing)
    renderer = GenerateRenderer(state.ids.next("resp"), model, request.thoughts)
    await deliver(exchange, reply, renderer, stream=stream)


async def _media(state: UpstreamState, exchange: Exchange, request: GeminiRequest) -> None:
    """An image or speech answer; the model name's errors, latency and faults apply."""
    assert request.media is not None
    model = request.prompt.model
    error = state.scenario.behaviour(model).error
    if error is not None and error.code == "content_policy_violation":
        body = refused_body(request.media, estimate_tokens(request.prompt.prompt_chars))
        await exchange.respond(200, body)
        return
    body = media_body(request, request.media, state.ids.next("resp"))
    await answer(state, exchange, model, body, errors_as=error_body)


async def predict(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    """Imagen's `:predict`: PNGs as `predictions`; a content-policy model filters them all,
    which the API answers as an empty object."""
    model = exchange.path_params["model"]
    count = imagen_count(model, body)
    if isinstance(count, str):
        await _reject(exchange, invalid(count))
        return
    error = state.scenario.behaviour(model).error
    if error is not None and error.code == "content_policy_violation":
        await exchange.respond(200, b"{}")
        return
    await answer(state, exchange, model, imagen_body(count), errors_as=error_body)


async def generate(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await _generate(state, exchange, body, stream=False)


async def stream_generate(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await _generate(state, exchange, body, stream=True)


def _embed_text(request: Any, where: str) -> tuple[str, int] | ReplyError:
    content = request.get("content") if isinstance(request, dict) else None
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list) or not parts:
        return invalid(f"{where}content: parts are required")
    dimensions = request.get("outputDimensionality", 768)
    if not isinstance(dimensions, int) or not 1 <= dimensions <= embeddings.MAX_DIMENSIONS:
        return invalid(f"{where}outputDimensionality: invalid value")
    return "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)), dimensions


async def _embed_reply(state: UpstreamState, exchange: Exchange, payload: bytes) -> None:
    behaviour = state.scenario.behaviour(exchange.path_params["model"])
    if behaviour.error is not None:
        await _reject(exchange, behaviour.error)
        return
    await exchange.respond(200, payload)


async def embed_content(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    parsed = _embed_text(body, "")
    if isinstance(parsed, ReplyError):
        await _reject(exchange, parsed)
        return
    text, dimensions = parsed
    payload = {"embedding": {"values": embeddings.vector(text, dimensions)}}
    await _embed_reply(state, exchange, orjson.dumps(payload))


async def batch_embed_contents(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        await _reject(exchange, invalid("requests: must not be empty"))
        return
    expected = f"models/{exchange.path_params['model']}"
    vectors = []
    for i, request in enumerate(requests):
        if not isinstance(request, dict) or request.get("model") != expected:
            await _reject(exchange, invalid(f"requests[{i}].model: must be {expected!r}"))
            return
        parsed = _embed_text(request, f"requests[{i}].")
        if isinstance(parsed, ReplyError):
            await _reject(exchange, parsed)
            return
        vectors.append({"values": embeddings.vector(*parsed)})
    await _embed_reply(state, exchange, orjson.dumps({"embeddings": vectors}))


async def count_tokens(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    """`models/{model}:countTokens` with `contents` or a whole `generateContentRequest`
    (checked like generateContent); the fake's count is four characters a token."""
    model = exchange.path_params["model"]
    if (
        not isinstance(body, dict)
        or len(body) != 1
        or not ("contents" in body or "generateContentRequest" in body)
    ):
        await _reject(exchange, invalid("countTokens takes `contents` or `generateContentRequest`"))
        return
    inner = body.get("generateContentRequest") or {"contents": body.get("contents")}
    if isinstance(inner, dict):
        if inner.get("model") not in (None, f"models/{model}"):
            await _reject(exchange, invalid("generateContentRequest.model must match the path"))
            return
        inner = {k: v for k, v in inner.items() if k != "model"}
    parsed = parse(inner, model, stream=False)
    if isinstance(parsed, ReplyError):
        await _reject(exchange, parsed)
        return
    tokens = estimate_tokens(parsed.prompt.prompt_chars)
    await exchange.respond(200, orjson.dumps({"totalTokens": tokens}))


def routes() -> list[Route]:
    return [
        Route("POST", f"{PREFIX}:countTokens", count_tokens, error_body, key_from=api_key),
        Route("POST", f"{PREFIX}:generateContent", generate, error_body, key_from=api_key),
        Route("POST", f"{PREFIX}:predict", predict, error_body, key_from=api_key),
        Route(
            "POST", f"{PREFIX}:streamGenerateContent", stream_generate, error_body, key_from=api_key
        ),
        Route("POST", f"{PREFIX}:embedContent", embed_content, error_body, key_from=api_key),
        Route(
            "POST",
            f"{PREFIX}:batchEmbedContents",
            batch_embed_contents,
            error_body,
            key_from=api_key,
        ),
    ]


__all__ = ["error_body", "routes"]
