"""Moderation (OpenAI's `/moderations`) and rerank (`/rerank`, the shape vLLM and Jina serve
and LiteLLM's `/v1/rerank` answers in).

Moderation flags an input that contains `[flag]` (category `violence`); rerank scores each
document by the share of the query's words it contains, best first. The model name picks
errors, latency and faults as for chat.
"""

from __future__ import annotations

from typing import Any

import orjson

from .. import errors
from ..exchange import Exchange
from ..reply import ReplyError, estimate_tokens
from ..state import UpstreamState
from . import Route
from .openai_media import answer, reject
from .openai_wire import error_body

FLAG = "[flag]"
CATEGORIES = ("harassment", "hate", "self-harm", "sexual", "violence")


def _texts(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        texts = []
        for item in value:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                texts.append(item["text"])  # multimodal input: text parts are judged
            elif not (isinstance(item, dict) and item.get("type") == "image_url"):
                return None
        return texts
    return None


def _moderation(text: str) -> dict[str, Any]:
    flagged = FLAG in text
    categories = {name: flagged and name == "violence" for name in CATEGORIES}
    return {
        "flagged": flagged,
        "categories": categories,
        "category_scores": {name: 0.99 if hit else 0.001 for name, hit in categories.items()},
        "category_applied_input_types": {name: ["text"] for name in CATEGORIES},
    }


async def moderations(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    if not isinstance(body, dict):
        await reject(exchange, errors.invalid_json())
        return
    texts = _texts(body.get("input"))
    if texts is None:
        await reject(exchange, errors.missing_parameter("input"))
        return
    model = body.get("model") if isinstance(body.get("model"), str) else "omni-moderation-latest"
    payload = {
        "id": state.ids.next("modr"),
        "model": model,
        "results": [_moderation(text) for text in texts],
    }
    await answer(state, exchange, str(model), orjson.dumps(payload))


def _document_text(document: Any) -> str | None:
    if isinstance(document, str):
        return document
    if isinstance(document, dict) and isinstance(document.get("text"), str):
        return str(document["text"])
    return None


def relevance(query: str, text: str) -> float:
    wanted = set(query.lower().split())
    found = set(text.lower().split())
    return round(len(wanted & found) / len(wanted), 6) if wanted else 0.0


def rerank_answer(body: dict[str, Any], model: str) -> dict[str, Any] | ReplyError:
    query = body.get("query")
    if not isinstance(query, str) or not query:
        return errors.missing_parameter("query")
    documents = body.get("documents")
    if not isinstance(documents, list) or not documents:
        return errors.missing_parameter("documents")
    texts = [_document_text(document) for document in documents]
    if any(text is None for text in texts):
        return errors.invalid_parameter("documents", "Each document must be a string or {text}.")
    top_n = body.get("top_n") or len(texts)
    if not isinstance(top_n, int) or top_n < 1:
        return errors.invalid_parameter("top_n", "top_n must be a positive integer.")
    ranked = sorted(
        ((index, relevance(query, str(text))) for index, text in enumerate(texts)),
        key=lambda pair: (-pair[1], pair[0]),
    )[:top_n]
    results = []
    for index, score in ranked:
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if body.get("return_documents", True):
            result["document"] = {"text": texts[index]}
        results.append(result)
    tokens = estimate_tokens(len(query)) * len(texts) + sum(
        estimate_tokens(len(str(text))) for text in texts
    )
    return {"model": model, "results": results, "usage": {"total_tokens": tokens}}


async def rerank(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    if not isinstance(body, dict):
        await reject(exchange, errors.invalid_json())
        return
    model = body.get("model")
    if not isinstance(model, str) or not model:
        await reject(exchange, errors.missing_parameter("model"))
        return
    ranked = rerank_answer(body, model)
    if isinstance(ranked, ReplyError):
        await reject(exchange, ranked)
        return
    ranked["id"] = state.ids.next("rerank")
    await answer(state, exchange, model, orjson.dumps(ranked))


def routes() -> list[Route]:
    return [
        Route("POST", "/moderations", moderations, error_body),
        Route("POST", "/rerank", rerank, error_body),
    ]
