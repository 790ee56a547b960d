"""`/v1/moderations` (the `openai` SDK) and `/v1/rerank` (LiteLLM's shape) through a gateway
process against the fake upstream: answers relayed, key access applied, spend rows written."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.support.processes import ServiceProcess

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
QUERY_PRICE = 0.002  # LiteLLM's `input_cost_per_query`, set on the reranker


def scoring_config(upstream: str) -> dict[str, Any]:
    def entry(name: str, model: str, **info: Any) -> dict[str, Any]:
        params = {"model": model, "api_base": f"{upstream}/v1", "api_key": UPSTREAM_KEY}
        return {"model_name": name, "litellm_params": params, "model_info": info}

    return {
        "model_list": [
            entry("omni-moderation-latest", "openai/omni-moderation-latest"),
            entry("reranker", "hosted_vllm/bge-reranker-v2-m3", input_cost_per_query=QUERY_PRICE),
            entry("tokens-reranker", "hosted_vllm/jina-reranker-v2"),
            {
                "model_name": "claude",
                "litellm_params": {"model": "anthropic/claude-x", "api_base": upstream},
            },
        ],
        "general_settings": {"master_key": MASTER_KEY},
    }


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    service = start_gateway(
        scoring_config(fake_upstream.url), tmp_path_factory.mktemp("scoring"), service_log_dir
    )
    yield service
    service.stop()


@pytest.fixture
def key(gateway: ServiceProcess) -> str:
    response = httpx.post(f"{gateway.url}/key/generate", headers=ADMIN, json={}, timeout=10)
    response.raise_for_status()
    return str(response.json()["key"])


def spend_rows(gateway: ServiceProcess, key: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        rows = httpx.get(
            f"{gateway.url}/spend/logs", headers=ADMIN, params={"api_key": key}, timeout=10
        ).json()
        if len(rows) >= count or time.monotonic() > deadline:
            return list(rows)
        time.sleep(0.1)


def rerank(gateway: ServiceProcess, key: str, path: str = "/v1/rerank", **body: Any) -> Any:
    return httpx.post(
        f"{gateway.url}{path}",
        headers={"Authorization": f"Bearer {key}"},
        json=body,
        timeout=10,
    )


def test_moderation_through_the_openai_sdk(gateway: ServiceProcess, key: str) -> None:
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0) as sdk:
        answer = sdk.moderations.create(
            model="omni-moderation-latest", input=["a calm sentence", "[flag] a violent one"]
        )

    assert [result.flagged for result in answer.results] == [False, True]
    assert answer.results[1].categories.violence is True
    [row] = spend_rows(gateway, key, 1)
    assert row["call_type"] == "moderation" and row["status"] == "success"
    assert row["model"] == "omni-moderation-latest"


def test_rerank_orders_documents_and_is_priced_per_query(gateway: ServiceProcess, key: str) -> None:
    documents = ["the cat sat", "a gateway routes llm calls", "routes for llm gateway calls"]
    answer = rerank(
        gateway, key, model="reranker", query="llm gateway routes", documents=documents, top_n=2
    )

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == [1, 2]
    assert results[0]["relevance_score"] == 1.0
    assert results[0]["document"] == {"text": documents[1]}
    [row] = spend_rows(gateway, key, 1)
    assert row["call_type"] == "rerank" and row["spend"] == pytest.approx(QUERY_PRICE)
    assert row["custom_llm_provider"] == "hosted_vllm" and row["prompt_tokens"] > 0


def test_rerank_answers_on_the_cohere_v2_path_too(gateway: ServiceProcess, key: str) -> None:
    answer = rerank(
        gateway,
        key,
        "/v2/rerank",
        model="tokens-reranker",
        query="x",
        documents=[{"text": "x y"}],
        return_documents=False,
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == [{"index": 0, "relevance_score": 1.0}]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "reranker", "documents": ["a"]}, "query"),
        ({"model": "reranker", "query": "q"}, "documents"),
        ({"model": "reranker", "query": "q", "documents": [1]}, "documents"),
        ({"model": "reranker", "query": "q", "documents": ["a"], "top_n": 0}, "top_n"),
        ({"model": "omni-moderation-latest"}, "input"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    gateway: ServiceProcess, key: str, body: dict[str, Any], param: str
) -> None:
    path = "/v1/moderations" if "moderation" in body["model"] else "/v1/rerank"
    answer = rerank(gateway, key, path, **body)

    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param


def test_a_provider_without_rerank_is_a_400_unsupported(gateway: ServiceProcess, key: str) -> None:
    answer = rerank(gateway, key, model="claude", query="q", documents=["a"])

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "unsupported"
