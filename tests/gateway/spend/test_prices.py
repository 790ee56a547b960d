"""The price table generated from genai-prices: lookups, overrides, tiers, cache writes, cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.auth import Principal
from gateway.deployments import Deployment
from gateway.errors import PermissionDeniedError
from gateway.hooks import CallRecord
from gateway.spend.prices import PriceTable

ROOT = Path(__file__).resolve().parents[3]


def deployment(provider: str, model: str, **fields: object) -> Deployment:
    return Deployment(
        id=f"{provider}-{model}", model_name=model, provider=provider, model=model, **fields
    )  # type: ignore[arg-type]


def record(
    d: Deployment | None, prompt: int, completion: int, cached: int = 0, written: int = 0
) -> CallRecord:
    r = CallRecord("r", Principal(kind="open", is_admin=True), "chat", "g", {})
    r.deployment, r.prompt_tokens, r.completion_tokens = d, prompt, completion
    r.cached_tokens, r.cache_write_tokens = cached, written
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
    assert price is not None and price.base.input > 0 and price.base.output > price.base.input


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("groq", "llama-3.3-70b-versatile"),
        ("openrouter", "openai/gpt-4o"),
        ("openrouter", "meta-llama/llama-3.1-8b-instruct"),
        ("mistral", "mistral-large-latest"),
        ("deepseek", "deepseek-chat"),
        ("together_ai", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("xai", "grok-3"),
    ],
)
def test_providers_beyond_the_big_three_are_priced(
    prices: PriceTable, provider: str, model: str
) -> None:
    price = prices.lookup(provider, model)
    assert price is not None and price.base.input > 0 and price.base.output > 0


@pytest.mark.parametrize(
    ("model", "same_as"),
    [
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", None),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", None),
        ("anthropic.claude-3-haiku-20240307-v1:0", None),
        ("amazon.nova-lite-v1:0", None),
        ("us.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        ("converse/amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0"),
        ("meta.llama3-1-70b-instruct-v1:0", None),
    ],
)
def test_bedrock_ids_with_region_and_route_prefixes_are_priced(
    prices: PriceTable, model: str, same_as: str | None
) -> None:
    price = prices.lookup("bedrock", model)
    assert price is not None and price.base.input > 0 and price.base.output > 0
    if same_as is not None:
        assert price == prices.lookup("bedrock", same_as)
    haiku = prices.lookup("bedrock", "anthropic.claude-3-haiku-20240307-v1:0")
    sonnet = prices.lookup("bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0")
    assert haiku is not None and sonnet is not None and haiku.base.input < sonnet.base.input


def test_exact_name_wins_over_a_shorter_family(prices: PriceTable) -> None:
    o3, o3_pro = prices.lookup("openai", "o3"), prices.lookup("openai", "o3-pro")
    assert o3 is not None and o3_pro is not None
    assert o3_pro.base.input > o3.base.input  # o3-pro is not billed as o3
    gpt5, gpt5_pro = prices.lookup("openai", "gpt-5"), prices.lookup("openai", "gpt-5-pro")
    assert gpt5 is not None and gpt5_pro is not None and gpt5_pro != gpt5


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
    assert free is not None and free.base.input == free.base.output == 0
    assert prices.lookup("openai", "my-finetune") is None


def test_cost_uses_cached_input_price(prices: PriceTable) -> None:
    d = deployment("openai", "gpt-4o")
    assert prices.cost(record(d, 1000, 100)) == pytest.approx(1000 * 2.5e-6 + 100 * 1e-5)
    assert prices.cost(record(d, 1000, 100, cached=400)) == pytest.approx(
        600 * 2.5e-6 + 400 * 1.25e-6 + 100 * 1e-5
    )


def test_anthropic_cache_writes_are_billed_at_the_write_price(prices: PriceTable) -> None:
    d = deployment("anthropic", "claude-3-5-sonnet-20241022")
    # 1000 prompt tokens: 200 read from the cache, 300 written to it, 500 plain
    assert prices.cost(record(d, 1000, 100, cached=200, written=300)) == pytest.approx(
        500 * 3e-6 + 200 * 0.3e-6 + 300 * 3.75e-6 + 100 * 15e-6
    )


def test_a_long_prompt_pays_the_tier_price_for_every_token(prices: PriceTable) -> None:
    d = deployment("gemini", "gemini-2.5-pro")
    assert prices.cost(record(d, 100_000, 0)) == pytest.approx(100_000 * 1.25e-6)
    assert prices.cost(record(d, 300_000, 1000)) == pytest.approx(300_000 * 2.5e-6 + 1000 * 15e-6)


def test_unpriced_models_are_refused_for_budgets_unless_allowed() -> None:
    strict, lenient = PriceTable.bundled(), PriceTable.bundled(allow_unpriced=True)
    mystery, priced = deployment("openai", "mystery"), deployment("openai", "gpt-4o")
    strict.require_priced([priced], "gpt-4o")
    with pytest.raises(PermissionDeniedError) as refused:
        strict.require_priced([priced, mystery], "group")
    assert refused.value.code == "unpriced_model"
    assert "input_cost_per_token" in refused.value.message
    lenient.require_priced([mystery], "group")
    assert strict.unpriced([priced, mystery, deployment("ollama", "llama3")]) == [mystery]


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


def test_cache_prices_can_be_overridden_per_deployment(prices: PriceTable) -> None:
    d = deployment(
        "anthropic",
        "claude-3-5-sonnet",
        input_cost_per_token=1e-6,
        extra_params={"cache_creation_input_token_cost": 2e-6, "cache_read_input_token_cost": 1e-7},
    )
    assert prices.cost(record(d, 100, 10, cached=20, written=30)) == pytest.approx(
        50 * 1e-6 + 20 * 1e-7 + 30 * 2e-6 + 10 * 15e-6
    )


def media_record(d: Deployment, call_type: str, **units: float) -> CallRecord:
    r = CallRecord("r", Principal(kind="open", is_admin=True), call_type, "g", {})  # type: ignore[arg-type]
    r.deployment = d
    for name, value in units.items():
        setattr(r, name, value)
    return r


def test_speech_and_whisper_are_priced_per_character_and_per_second(prices: PriceTable) -> None:
    # OpenAI's list prices: tts-1 $15 per million characters, whisper-1 $0.006 a minute
    speech = media_record(deployment("openai", "tts-1"), "speech", characters=1000)
    whisper = media_record(deployment("azure", "whisper-1"), "transcription", audio_seconds=90)
    assert prices.cost(speech) == pytest.approx(1000 * 15e-6)
    assert prices.cost(whisper) == pytest.approx(90 * 0.006 / 60)
    # a chat-shaped call on such a model counts nothing it could be billed by
    assert prices.cost(record(deployment("openai", "tts-1"), 100, 100)) == 0.0


def test_token_billed_media_use_the_audio_and_image_token_rates(prices: PriceTable) -> None:
    # gpt-4o-transcribe: text in $2.5, audio in $6, text out $10 per million tokens
    transcribe = media_record(
        deployment("openai", "gpt-4o-transcribe"),
        "transcription",
        prompt_tokens=120,
        audio_tokens=100,
        completion_tokens=30,
        audio_seconds=10,  # no per-second price: the tokens decide
    )
    assert prices.cost(transcribe) == pytest.approx(20 * 2.5e-6 + 100 * 6e-6 + 30 * 10e-6)
    # gpt-image-1.5: image tokens out at $32 per million, not the $10 text-output rate
    image = media_record(
        deployment("openai", "gpt-image-1.5"),
        "image_generation",
        prompt_tokens=10,
        completion_tokens=1000,
        images=1,
    )
    assert prices.cost(image) == pytest.approx(10 * 5e-6 + 1000 * 32e-6)


def test_litellm_per_unit_overrides(prices: PriceTable) -> None:
    dalle = deployment("openai", "dall-e-3", model_info={"output_cost_per_image": 0.04})
    voice = deployment("openai", "my-tts", extra_params={"input_cost_per_character": 1e-5})
    ears = deployment("openai", "my-whisper", model_info={"input_cost_per_second": 2e-4})
    assert prices.unpriced([dalle, voice, ears]) == []
    assert prices.cost(media_record(dalle, "image_generation", images=3)) == pytest.approx(0.12)
    assert prices.cost(media_record(voice, "speech", characters=50)) == pytest.approx(5e-4)
    assert prices.cost(media_record(ears, "transcription", audio_seconds=30)) == pytest.approx(6e-3)
    # an image model priced both ways bills the image count the operator priced
    both = deployment("openai", "gpt-image-1", model_info={"output_cost_per_image": 0.01})
    used = media_record(both, "image_generation", images=2, prompt_tokens=9, completion_tokens=500)
    assert prices.cost(used) == pytest.approx(0.02)


def test_committed_table_matches_the_pinned_genai_prices_package() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_prices.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_cohere_rerank_is_priced_per_search_and_a_deployment_price_overrides(
    prices: PriceTable,
) -> None:
    # LiteLLM's price map: $0.002 per search for Cohere's v3 and v3.5 rerankers
    for model in ("rerank-v3.5", "rerank-english-v3.0", "rerank-multilingual-v3.0"):
        reranker = deployment("cohere", model)
        assert prices.unpriced([reranker]) == []
        assert prices.cost(media_record(reranker, "rerank", queries=3)) == pytest.approx(0.006)
    own = Deployment(
        id="own-price",
        model_name="reranker",
        provider="cohere",
        model="rerank-v3.5",
        model_info={"input_cost_per_query": 0.01},
    )
    assert prices.cost(media_record(own, "rerank", queries=2)) == pytest.approx(0.02)
