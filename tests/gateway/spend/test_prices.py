"""The bundled price table: lookups by provider and model, overrides, and cost per record."""

from __future__ import annotations

import pytest

from gateway.auth import Principal
from gateway.deployments import Deployment
from gateway.hooks import CallRecord
from gateway.spend.prices import PriceTable


def deployment(provider: str, model: str, **fields: object) -> Deployment:
    return Deployment(
        id=f"{provider}-{model}", model_name=model, provider=provider, model=model, **fields
    )  # type: ignore[arg-type]


def record(d: Deployment | None, prompt: int, completion: int, cached: int = 0) -> CallRecord:
    r = CallRecord("r", Principal(kind="open", is_admin=True), "chat", "g", {})
    r.deployment, r.prompt_tokens, r.completion_tokens, r.cached_tokens = (
        d,
        prompt,
        completion,
        cached,
    )
    return r


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.bundled()


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4o"),
        ("openai", "gpt-4o-mini"),
        ("openai", "gpt-4.1"),
        ("anthropic", "claude-sonnet-4-5"),
        ("anthropic", "claude-3-5-haiku"),
        ("gemini", "gemini-2.5-flash"),
        ("gemini", "gemini-2.5-pro"),
    ],
)
def test_common_models_of_every_provider_are_priced(
    prices: PriceTable, provider: str, model: str
) -> None:
    price = prices.lookup(provider, model)
    assert price is not None and price.input > 0 and price.output > price.input


def test_snapshots_azure_vertex_and_ollama(prices: PriceTable) -> None:
    assert prices.lookup("openai", "gpt-4o-2024-08-06") == prices.lookup("openai", "gpt-4o")
    # The longest family wins: gpt-4o-mini's snapshot is not priced as gpt-4o.
    assert prices.lookup("openai", "gpt-4o-mini-2024-07-18") == prices.lookup(
        "openai", "gpt-4o-mini"
    )
    assert prices.lookup("azure", "gpt-4o") == prices.lookup("openai", "gpt-4o")
    assert prices.lookup("vertex_ai", "gemini-2.5-pro") == prices.lookup("gemini", "gemini-2.5-pro")
    assert prices.lookup("anthropic", "claude-sonnet-4-5-20250929") == prices.lookup(
        "anthropic", "claude-sonnet-4-5"
    )
    free = prices.lookup("ollama", "llama3.1")
    assert free is not None and free.input == free.output == 0
    assert prices.lookup("openai", "my-finetune") is None


def test_cost_uses_cached_input_price(prices: PriceTable) -> None:
    d = deployment("openai", "gpt-4o")
    assert prices.cost(record(d, 1000, 100)) == pytest.approx(1000 * 2.5e-6 + 100 * 1e-5)
    assert prices.cost(record(d, 1000, 100, cached=400)) == pytest.approx(
        600 * 2.5e-6 + 400 * 1.25e-6 + 100 * 1e-5
    )


def test_deployment_override_and_base_model(prices: PriceTable) -> None:
    custom = deployment(
        "openai", "my-finetune", input_cost_per_token=1e-3, output_cost_per_token=2e-3
    )
    assert prices.cost(record(custom, 10, 5)) == pytest.approx(10 * 1e-3 + 5 * 2e-3)
    azure = deployment("azure", "prod-deployment", model_info={"base_model": "azure/gpt-4o-mini"})
    assert prices.cost(record(azure, 1000, 0)) == pytest.approx(1000 * 1.5e-7)
    unpriced = deployment("openai", "mystery")
    assert prices.cost(record(unpriced, 1000, 1000)) == 0.0
    assert prices.cost(record(None, 1000, 1000)) == 0.0
