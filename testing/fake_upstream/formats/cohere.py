"""Cohere's v2 API: `POST /v2/chat`, whole or as SSE events, `POST /v2/embed` and
`POST /v2/rerank`, with `Authorization: Bearer KEY`.

Replies look like the API reference's: `message` with `content` text blocks, or a `tool_plan`
and `tool_calls` (JSON-text arguments), `finish_reason` (`COMPLETE`, `MAX_TOKENS`,
`TOOL_CALL`) and `usage` with `billed_units` and `tokens`. Streams are `message-start`,
`content-start/delta/end` or `tool-plan-delta` + `tool-call-start/delta/end`, then
`message-end` with the finish reason and usage; each SSE event also names its type in
`event:`. Rerank takes string documents only (v2) and refuses fields it does not know;
it scores each by the share of the query's words it holds, best first, and bills one search
unit per 100 documents. Errors are Cohere's `{"id", "message"}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from .. import embeddings
from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Reply, ReplyError, estimate_tokens
from ..state import UpstreamState
from . import Route
from .cohere_wire import invalid, parse
from .openai_extras import relevance
from .openai_wire import argument_pieces, text_pieces

TOOL_PLAN = "I will call the tools to answer this."
_FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "TOOL_CALL"}


def error_body(error: ReplyError) -> bytes:
    message = error.message
    if error.code == "invalid_api_key":
        message = "invalid api token"
    return orjson.dumps({"id": "err-fake", "message": message})


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return (
        b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **payload}) + b"\n\n"
    )


class ChatRenderer:
    def __init__(self, response_id: str) -> None:
        self._id = response_id

    @staticmethod
    def _usage(reply: Reply) -> dict[str, Any]:
        counts = {
            "input_tokens": reply.usage.prompt_tokens,
            "output_tokens": reply.usage.completion_tokens,
        }
        return {"billed_units": counts, "tokens": counts}

    @staticmethod
    def _finish(reply: Reply) -> str:
        return _FINISH.get(reply.finish_reason, "COMPLETE")

    @staticmethod
    def _call(call: Any) -> dict[str, Any]:
        return {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments or "{}"},
        }

    def body(self, reply: Reply) -> bytes:
        message: dict[str, Any] = {"role": "assistant"}
        if reply.tool_calls:
            message["tool_plan"] = reply.text or TOOL_PLAN
            message["tool_calls"] = [self._call(call) for call in reply.tool_calls]
        else:
            message["content"] = [{"type": "text", "text": reply.text or ""}]
        payload = {
            "id": self._id,
            "message": message,
            "finish_reason": self._finish(reply),
            "usage": self._usage(reply),
        }
        return orjson.dumps(payload)

    def frames(self, reply: Reply) -> Iterator[bytes]:
        start = {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": []}
        yield _event("message-start", {"id": self._id, "delta": {"message": start}})
        if reply.tool_calls:
            for piece in text_pieces(reply.text or TOOL_PLAN):
                yield _event("tool-plan-delta", {"delta": {"message": {"tool_plan": piece}}})
            for index, call in enumerate(reply.tool_calls):
                opened = {**self._call(call), "function": {"name": call.name, "arguments": ""}}
                yield _event(
                    "tool-call-start",
                    {"index": index, "delta": {"message": {"tool_calls": opened}}},
                )
                for piece in argument_pieces(call.arguments or "{}"):
                    delta = {"tool_calls": {"function": {"arguments": piece}}}
                    yield _event("tool-call-delta", {"index": index, "delta": {"message": delta}})
                yield _event("tool-call-end", {"index": index})
        else:
            opened_text = {"content": {"type": "text", "text": ""}}
            yield _event("content-start", {"index": 0, "delta": {"message": opened_text}})
            for piece in text_pieces(reply.text or ""):
                delta = {"message": {"content": {"text": piece}}}
                yield _event("content-delta", {"index": 0, "delta": delta})
            yield _event("content-end", {"index": 0})
        end = {"finish_reason": self._finish(reply), "usage": self._usage(reply)}
        yield _event("message-end", {"id": self._id, "delta": end})

    def error_body(self, error: ReplyError) -> bytes:
        return error_body(error)

    def malformed_body(self) -> bytes:
        return b'{"id": "' + self._id.encode() + b'", "message": {"content": [{'

    def malformed_frame(self) -> bytes:
        return b'event: content-delta\ndata: {"type": "content-delta", "delta": {"mess\n\n'


async def chat(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    prompt = parse(body)
    if isinstance(prompt, ReplyError):
        await exchange.respond(prompt.status, error_body(prompt), headers=prompt.headers)
        return
    reply = state.scenario.plan(prompt)
    await deliver(exchange, reply, ChatRenderer(state.ids.next("cohere")), stream=prompt.stream)


_INPUT_TYPES = frozenset(
    {"search_document", "search_query", "classification", "clustering", "image"}
)


def _embed_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "model is required"
    texts = body.get("texts")
    if not isinstance(texts, list) or not texts or len(texts) > 96:
        return "texts must be a list of 1 to 96 strings"
    if not all(isinstance(t, str) for t in texts):
        return "texts must be a list of 1 to 96 strings"
    if body.get("input_type") not in _INPUT_TYPES:
        return f"input_type must be one of {sorted(_INPUT_TYPES)}"
    if body.get("embedding_types") != ["float"]:
        return "this fake serves embedding_types ['float'] only"
    dimensions = body.get("output_dimension", 1024)
    if not isinstance(dimensions, int) or not 1 <= dimensions <= embeddings.MAX_DIMENSIONS:
        return "output_dimension: invalid value"
    return None


async def embed(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    """`POST /v2/embed`: float vectors, and the billed input tokens in `meta`."""
    problem = _embed_problem(body)
    if problem is not None:
        await exchange.respond(400, error_body(invalid(problem)))
        return
    behaviour = state.scenario.behaviour(body["model"])
    if behaviour.error is not None:
        await exchange.respond(behaviour.error.status, error_body(behaviour.error))
        return
    dimensions = body.get("output_dimension", 1024)
    texts = body["texts"]
    payload = {
        "id": state.ids.next("embed"),
        "embeddings": {"float": [embeddings.vector(text, dimensions) for text in texts]},
        "texts": texts,
        "meta": {"billed_units": {"input_tokens": sum(estimate_tokens(len(t)) for t in texts)}},
    }
    await exchange.respond(200, orjson.dumps(payload))


_RERANK_FIELDS = frozenset(
    {"model", "query", "documents", "top_n", "max_tokens_per_doc", "priority", "relevant_spans"}
)
_DOCUMENTS_PER_SEARCH = 100


def _rerank_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be a JSON object"
    unknown = sorted(set(body) - _RERANK_FIELDS)
    if unknown:
        return f"unknown field: {unknown[0]}"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model is required"
    if not isinstance(body.get("query"), str) or not body["query"]:
        return "query is required"
    documents = body.get("documents")
    if not isinstance(documents, list) or not documents or len(documents) > 10_000:
        return "documents must be a list of 1 to 10000 strings"
    if not all(isinstance(d, str) for d in documents):
        return "documents must be a list of 1 to 10000 strings"
    for field in ("top_n", "max_tokens_per_doc"):
        value = body.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{field} must be an integer"
        if value is not None and value < 1:
            return f"{field} must be at least 1"
    return None


async def rerank(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    """`POST /v2/rerank`: `results` of `index` and `relevance_score` only (v2 never echoes
    documents), and the billed search units in `meta`."""
    problem = _rerank_problem(body)
    if problem is not None:
        await exchange.respond(400, error_body(invalid(problem)))
        return
    behaviour = state.scenario.behaviour(body["model"])
    if behaviour.error is not None:
        await exchange.respond(behaviour.error.status, error_body(behaviour.error))
        return
    documents: list[str] = body["documents"]
    scored = sorted(
        ((index, relevance(body["query"], text)) for index, text in enumerate(documents)),
        key=lambda pair: (-pair[1], pair[0]),
    )
    top_n = body.get("top_n") or len(documents)
    searches = -(-len(documents) // _DOCUMENTS_PER_SEARCH)
    payload = {
        "id": state.ids.next("rerank"),
        "results": [{"index": i, "relevance_score": score} for i, score in scored[:top_n]],
        "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": searches}},
    }
    await exchange.respond(200, orjson.dumps(payload))


def routes() -> list[Route]:
    return [
        Route("POST", "/v2/chat", chat, error_body),
        Route("POST", "/v2/embed", embed, error_body),
        Route("POST", "/v2/rerank", rerank, error_body),
    ]


__all__ = ["error_body", "routes"]
