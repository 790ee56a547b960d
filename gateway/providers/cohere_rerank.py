"""LiteLLM's rerank body to Cohere's `POST /v2/rerank` and back.

Cohere v2 takes `documents` as strings and no longer echoes them (`return_documents` is gone),
so `{"text"}` documents are flattened on the way up, and the answer gets each result's
`document` from the request when the client asked for it (LiteLLM's default: it does).
`meta.billed_units.search_units` is kept: the route bills rerank per search unit.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import BadRequestError
from gateway.providers.base import JSON
from gateway.providers.cohere_response import NAME
from gateway.providers.errors import malformed_response

# what Cohere's v2 rerank takes, and `return_documents`, which the gateway honours itself
SUPPORTED = frozenset(
    {"model", "query", "documents", "top_n", "max_tokens_per_doc", "priority", "return_documents"}
)


def document_texts(documents: list[Any]) -> list[str]:
    """Strings as they are, `{"text": ...}` objects by their text (the route checked both)."""
    return [d if isinstance(d, str) else str(d["text"]) for d in documents]


def rerank_request(body: JSON, *, drop_params: bool) -> JSON:
    unsupported = sorted(key for key in body if key not in SUPPORTED)
    if unsupported and not drop_params:
        raise BadRequestError(
            f"{NAME} rerank does not support parameters: {', '.join(unsupported)}. "
            "Set litellm_settings.drop_params: true to drop them.",
            code="unsupported_params",
            param=unsupported[0],
        )
    request: JSON = {
        key: value
        for key, value in body.items()
        if key in SUPPORTED and key != "return_documents" and value is not None
    }
    request["documents"] = document_texts(body["documents"])
    return request


def _score(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise malformed_response(NAME, "relevance_score is not a number")
    return float(value)


def rerank_answer(response: JSON, texts: list[str], *, return_documents: bool) -> JSON:
    results = response.get("results")
    if not isinstance(results, list):
        raise malformed_response(NAME, "rerank answer has no results list")
    ranked: list[JSON] = []
    for result in results:
        index = result.get("index") if isinstance(result, dict) else None
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(texts):
            raise malformed_response(NAME, f"rerank result index {index!r} names no document")
        entry: JSON = {"index": index, "relevance_score": _score(result.get("relevance_score"))}
        if return_documents:
            entry["document"] = {"text": texts[index]}
        ranked.append(entry)
    answer: JSON = {"id": response.get("id"), "results": ranked}
    if isinstance(response.get("meta"), dict):
        answer["meta"] = response["meta"]
    return answer
