"""`cohere/rerank-*` through a gateway process against the fake upstream's `/v2/rerank`, called
with the `cohere` SDK (`ClientV2.rerank`) as LiteLLM users call it: ranking relayed, documents
echoed, one search unit per 100 documents billed at the table's or the deployment's price."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cohere
import httpx
import pytest

from gateway.errors import BadGatewayError
from gateway.providers.cohere_rerank import rerank_answer
from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.support.processes import ServiceProcess

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
TABLE_PRICE = 0.002  # rerank-v3.5 per search, from the gateway's price table
OWN_PRICE = 0.01  # input_cost_per_query set on a deployment


def rerank_config(upstream: str) -> dict[str, Any]:
    def entry(name: str, model: str, key: str = UPSTREAM_KEY, **info: Any) -> dict[str, Any]:
        params = {"model": model, "api_base": upstream, "api_key": key}
        return {"model_name": name, "litellm_params": params, "model_info": info}

    return {
        "model_list": [
            entry("rerank-v3.5", "cohere/rerank-v3.5"),
            entry("own-price", "cohere/rerank-english-v3.0", input_cost_per_query=OWN_PRICE),
            entry("wrong-upstream-key", "cohere/rerank-v3.5", key="sk-not-the-upstream-key"),
        ],
        "general_settings": {"master_key": MASTER_KEY},
    }


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    service = start_gateway(
        rerank_config(fake_upstream.url), tmp_path_factory.mktemp("cohere-rerank"), service_log_dir
    )
    yield service
    service.stop()


@pytest.fixture
def key(gateway: ServiceProcess) -> str:
    """A virtual key with a budget: the gateway refuses it on models it cannot price."""
    response = httpx.post(
        f"{gateway.url}/key/generate", headers=ADMIN, json={"max_budget": 5.0}, timeout=10
    )
    response.raise_for_status()
    return str(response.json()["key"])


@pytest.fixture
def sdk(gateway: ServiceProcess, key: str) -> Iterator[cohere.ClientV2]:
    with httpx.Client(timeout=10) as http:
        yield cohere.ClientV2(base_url=gateway.url, api_key=key, httpx_client=http, max_retries=0)


def spend_rows(gateway: ServiceProcess, key: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        rows = httpx.get(
            f"{gateway.url}/spend/logs", headers=ADMIN, params={"api_key": key}, timeout=10
        ).json()
        if len(rows) >= count or time.monotonic() > deadline:
            return list(rows)
        time.sleep(0.1)


def test_the_cohere_sdk_reranks_and_the_key_is_billed_per_search(
    gateway: ServiceProcess, key: str, sdk: cohere.ClientV2
) -> None:
    documents = ["the cat sat", "a gateway routes llm calls", "llm gateway", "routes"]
    answer = sdk.rerank(
        model="rerank-v3.5", query="llm gateway routes", documents=documents, top_n=3
    )

    assert [(r.index, r.relevance_score) for r in answer.results] == [
        (1, 1.0),
        (2, pytest.approx(2 / 3)),
        (3, pytest.approx(1 / 3)),
    ]
    assert answer.meta is not None and answer.meta.billed_units is not None
    assert answer.meta.billed_units.search_units == 1
    [row] = spend_rows(gateway, key, 1)
    assert row["call_type"] == "rerank" and row["status"] == "success"
    assert row["custom_llm_provider"] == "cohere" and row["model"] == "rerank-v3.5"
    assert row["spend"] == pytest.approx(TABLE_PRICE)


def test_many_documents_bill_one_search_per_hundred_at_the_deployment_price(
    gateway: ServiceProcess, key: str, sdk: cohere.ClientV2
) -> None:
    documents = [f"document {n}" for n in range(150)]
    answer = sdk.rerank(model="own-price", query="document 149", documents=documents, top_n=1)

    assert [r.index for r in answer.results] == [149]
    assert answer.meta is not None and answer.meta.billed_units is not None
    assert answer.meta.billed_units.search_units == 2
    [row] = spend_rows(gateway, key, 1)
    assert row["spend"] == pytest.approx(2 * OWN_PRICE)


def test_litellm_shaped_documents_are_echoed_unless_turned_off(
    gateway: ServiceProcess, key: str
) -> None:
    def rerank(**extra: Any) -> Any:
        response = httpx.post(
            f"{gateway.url}/v1/rerank",
            headers={"Authorization": f"Bearer {key}"},
            json={
                "model": "rerank-v3.5",
                "query": "blue sky",
                "documents": [{"text": "green grass"}, "a blue sky"],
                **extra,
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()["results"]

    assert rerank() == [
        {"index": 1, "relevance_score": 1.0, "document": {"text": "a blue sky"}},
        {"index": 0, "relevance_score": 0.0, "document": {"text": "green grass"}},
    ]
    assert rerank(return_documents=False, top_n=1) == [{"index": 1, "relevance_score": 1.0}]


def test_a_wrong_virtual_key_is_a_401(gateway: ServiceProcess) -> None:
    with httpx.Client(timeout=10) as http:
        sdk = cohere.ClientV2(
            base_url=gateway.url, api_key="sk-not-a-key", httpx_client=http, max_retries=0
        )
        with pytest.raises(cohere.UnauthorizedError):
            sdk.rerank(model="rerank-v3.5", query="q", documents=["a"])


def test_a_wrong_upstream_key_is_a_401_naming_cohere(sdk: cohere.ClientV2) -> None:
    with pytest.raises(cohere.UnauthorizedError) as raised:
        sdk.rerank(model="wrong-upstream-key", query="q", documents=["a"])
    assert "cohere" in str(raised.value.body)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"documents": []}, "documents"),  # the gateway's own check
        ({"documents": ["a"], "max_tokens_per_doc": 0}, "max_tokens_per_doc"),  # Cohere's
    ],
)
def test_a_bad_body_is_a_400(sdk: cohere.ClientV2, fields: dict[str, Any], said: str) -> None:
    with pytest.raises(cohere.BadRequestError) as raised:
        sdk.rerank(model="rerank-v3.5", query="q", **fields)
    assert said in str(raised.value.body)


def test_a_parameter_cohere_v2_lacks_is_refused_by_name(gateway: ServiceProcess, key: str) -> None:
    response = httpx.post(
        f"{gateway.url}/v1/rerank",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "rerank-v3.5", "query": "q", "documents": ["a"], "max_chunks_per_doc": 2},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "max_chunks_per_doc"


@pytest.mark.parametrize(
    "response",
    [
        {"id": "r"},
        {"results": [{"index": 2, "relevance_score": 0.5}]},
        {"results": [{"index": True, "relevance_score": 0.5}]},
        {"results": [{"index": 0, "relevance_score": "high"}]},
        {"results": ["not an object"]},
    ],
)
def test_an_answer_cohere_would_not_give_is_a_502(response: dict[str, Any]) -> None:
    with pytest.raises(BadGatewayError, match="cohere error: malformed upstream response"):
        rerank_answer(response, ["a", "b"], return_documents=True)
