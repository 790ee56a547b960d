"""What a request costs: the price table generated from genai-prices, deployment overrides.

Lookup order for a deployment (first hit wins):
1. its own prices: `input_cost_per_token`/`output_cost_per_token` (and LiteLLM's
   `cache_read_input_token_cost`/`cache_creation_input_token_cost`), in `litellm_params` or
   `model_info`; a field left out takes the table's value;
2. `model_info.base_model`, then the deployment's model, in the table of its provider:
   the exact name, then the longest name prefix the table lists, then the longest listed
   name followed by `-` (a dated snapshot such as `gpt-4o-2024-08-06`), then the longest
   name part the table lists (how genai-prices matches Bedrock ids such as
   `us.anthropic.claude-3-5-sonnet-20241022-v2:0` or `converse/amazon.nova-lite-v1:0`).
   So `o3-pro` is priced as `o3-pro`, never as `o3`.
Media calls are priced per unit where the deployment or the table has a unit price and the
call counted that unit: per image (`output_cost_per_image`, LiteLLM's name; the table has
none), per character spoken (`input_cost_per_character`, or the table's `per_character`), per
second of audio transcribed (`input_cost_per_second`, or the table's `per_second`), per rerank
query (`input_cost_per_query`, or `PER_QUERY`: genai-prices has no search prices). Otherwise
by tokens, with audio tokens in and image tokens out at their own rates where the table has them.
Local inference (`ollama/`, `lm_studio/`, `hosted_vllm/`, ...) is free by definition.
Anything else is unpriced: named once at start-up, costed 0, and refused for keys with a
budget unless `general_settings.allow_unpriced_models: true` (see `require_priced`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import structlog

from gateway.deployments import Deployment
from gateway.errors import PermissionDeniedError
from gateway.hooks import CallRecord

log = structlog.get_logger("toolrelay.spend")

# LiteLLM's provider prefixes -> the provider tables in prices.json (genai-prices' ids)
PRICE_PROVIDERS: Mapping[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "azure": "azure",
    "azure_ai": "azure",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "groq": "groq",
    "mistral": "mistral",
    "openrouter": "openrouter",
    "together_ai": "together",
    "deepseek": "deepseek",
    "fireworks_ai": "fireworks",
    "perplexity": "perplexity",
    "xai": "x-ai",
    "cerebras": "cerebras",
}
# Rerank models billed per search (Cohere: one search is up to 100 documents), which the
# generated table cannot hold; USD per search, the values LiteLLM's price map uses.
PER_QUERY: Mapping[str, Mapping[str, float]] = {
    "cohere": {
        "rerank-v3.5": 0.002,
        "rerank-english-v3.0": 0.002,
        "rerank-multilingual-v3.0": 0.002,
    },
}
LOCAL_PROVIDERS = frozenset(
    {"ollama", "ollama_chat", "lm_studio", "hosted_vllm", "vllm", "llamafile"}
)


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per token. Cache reads and writes are billed as plain input where a model has no
    price of its own for them."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    input_audio: float | None = None  # per audio token in (transcription)
    output_image: float | None = None  # per image token out (image generation)
    per_image: float | None = None
    per_character: float | None = None
    per_second: float | None = None
    per_query: float | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """Base rates, and the rates of each prompt-size tier: a prompt above `above` tokens
    pays that tier's rates for every token (the cliff model Google and Anthropic use)."""

    base: Rates
    tiers: tuple[tuple[int, Rates], ...] = ()

    def rates_for(self, prompt_tokens: int) -> Rates:
        rates = self.base
        for above, tier in self.tiers:
            if prompt_tokens > above:
                rates = tier
        return rates


FREE = Price(Rates(0.0, 0.0, 0.0, 0.0))
_OPTIONAL_RATES = (
    "cache_read",
    "cache_write",
    "input_audio",
    "output_image",
    "per_image",
    "per_character",
    "per_second",
    "per_query",
)
# LiteLLM's per-unit price fields (`litellm_params` or `model_info`) -> our rate names
_UNIT_OVERRIDES = {
    "per_image": "output_cost_per_image",
    "per_character": "input_cost_per_character",
    "per_second": "input_cost_per_second",
    "per_query": "input_cost_per_query",
}


def _rates(raw: Mapping[str, Any], fallback: Rates | None = None) -> Rates:
    def pick(key: str) -> float | None:
        value = raw.get(key)
        if value is None and fallback is not None:
            return getattr(fallback, key)  # type: ignore[no-any-return]
        return float(value) if value is not None else None

    return Rates(
        input=pick("input") or 0.0,
        output=pick("output") or 0.0,
        **{key: pick(key) for key in _OPTIONAL_RATES},
    )


def _price(raw: Mapping[str, Any]) -> Price:
    base = _rates(raw)
    tiers = tuple((int(tier["above"]), _rates(tier, base)) for tier in raw.get("tiers", ()))
    return Price(base, tiers)


def _override(deployment: Deployment, key: str) -> float | None:
    for source in (deployment.extra_params, deployment.model_info):
        value = source.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _unit_cost(rates: Rates, record: CallRecord) -> float | None:
    """The cost of a media call priced per unit, or None to price it by tokens."""
    if record.images and rates.per_image is not None:
        return record.images * rates.per_image
    if record.characters and rates.per_character is not None:
        return record.characters * rates.per_character
    if record.audio_seconds and rates.per_second is not None:
        return record.audio_seconds * rates.per_second
    if record.queries and rates.per_query is not None:
        return record.queries * rates.per_query
    return None


@dataclass
class PriceTable:
    """The generated table (`prices.json`): per provider, exact names and name prefixes."""

    providers: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Any]]]]
    allow_unpriced: bool = False
    _by_deployment: dict[str, Price | None] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)

    @classmethod
    def bundled(cls, *, allow_unpriced: bool = False) -> PriceTable:
        text = resources.files("gateway.spend").joinpath("prices.json").read_text()
        return cls.from_mapping(json.loads(text), allow_unpriced=allow_unpriced)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, allow_unpriced: bool = False) -> PriceTable:
        return cls(providers=raw["providers"], allow_unpriced=allow_unpriced)

    def lookup(self, provider: str, model: str) -> Price | None:
        if provider in LOCAL_PROVIDERS:
            return FREE
        table_id = PRICE_PROVIDERS.get(provider, provider)
        name = model.lower()
        per_query = PER_QUERY.get(table_id, {}).get(name)
        if per_query is not None:
            return Price(Rates(0.0, 0.0, per_query=per_query))
        table = self.providers.get(table_id)
        if table is None:
            return None
        exact, prefixes = table["exact"], table["prefix"]
        if name in exact:
            return _price(exact[name])
        starts = [prefix for prefix in prefixes if name.startswith(prefix)]
        if starts:
            return _price(prefixes[max(starts, key=len)])
        dated = [known for known in exact if name.startswith(known + "-")]
        if dated:
            return _price(exact[max(dated, key=len)])
        parts = table.get("contains") or {}
        inside = [part for part in parts if part in name]
        return _price(parts[max(inside, key=len)]) if inside else None

    def _table_price(self, deployment: Deployment) -> Price | None:
        base_model = deployment.model_info.get("base_model")
        if isinstance(base_model, str) and base_model:
            provider, sep, name = base_model.partition("/")
            found = (
                self.lookup(provider, name) if sep else self.lookup(deployment.provider, base_model)
            )
            if found is not None:
                return found
        return self.lookup(deployment.provider, deployment.model)

    def _resolve(self, deployment: Deployment) -> Price | None:
        table = self._table_price(deployment)
        overrides = {
            "input": deployment.input_cost_per_token,
            "output": deployment.output_cost_per_token,
            "cache_read": _override(deployment, "cache_read_input_token_cost"),
            "cache_write": _override(deployment, "cache_creation_input_token_cost"),
            **{rate: _override(deployment, name) for rate, name in _UNIT_OVERRIDES.items()},
        }
        given = {key: value for key, value in overrides.items() if value is not None}
        if not given:
            return table
        if table is None and ("input" not in given or "output" not in given):
            # half a price is still a price: the missing side costs 0, as in LiteLLM
            given.setdefault("input", 0.0)
            given.setdefault("output", 0.0)
        base = table.base if table is not None else None
        # an explicit price replaces the table's tiers too: the operator's rate is the rate
        return Price(_rates(given, base))

    def price_of(self, deployment: Deployment) -> Price | None:
        """The deployment's price, or None when nothing prices it (resolved once each)."""
        if deployment.id not in self._by_deployment:
            self._by_deployment[deployment.id] = self._resolve(deployment)
        return self._by_deployment[deployment.id]

    def price_for(self, deployment: Deployment) -> Price:
        price = self.price_of(deployment)
        if price is None:
            self._warn_unpriced(deployment)
            return FREE
        return price

    def unpriced(self, deployments: Iterable[Deployment]) -> list[Deployment]:
        return [d for d in deployments if self.price_of(d) is None]

    def warn_unpriced(self, deployments: Iterable[Deployment]) -> None:
        """One start-up line naming every deployment nothing prices."""
        missing = self.unpriced(deployments)
        if not missing:
            return
        self._warned.update(d.id for d in missing)
        log.warning(
            "no price for these deployments: their requests cost 0, and keys with a budget "
            "are refused on them unless general_settings.allow_unpriced_models is true; set "
            "input_cost_per_token/output_cost_per_token on each to price it",
            deployments=sorted(f"{d.model_name} ({d.provider}/{d.model})" for d in missing),
        )

    def require_priced(self, deployments: Iterable[Deployment], model_group: str) -> None:
        """A budget cannot hold on a model that costs nothing here: refuse, clearly."""
        if self.allow_unpriced:
            return
        missing = self.unpriced(deployments)
        if missing:
            raise PermissionDeniedError(
                f"model={model_group} has no price, so this key's budget cannot be enforced "
                f"on it (deployment {missing[0].provider}/{missing[0].model}). Set "
                "input_cost_per_token and output_cost_per_token on the deployment, or "
                "general_settings.allow_unpriced_models: true.",
                code="unpriced_model",
                param="model",
            )

    def _warn_unpriced(self, deployment: Deployment) -> None:
        if deployment.id not in self._warned:
            self._warned.add(deployment.id)
            log.warning(
                "no price for this model; its requests cost 0 (set input_cost_per_token/"
                "output_cost_per_token on the deployment)",
                provider=deployment.provider,
                model=deployment.model,
            )

    def cost(self, record: CallRecord) -> float:
        if record.deployment is None or record.cache_hit:
            return 0.0
        rates = self.price_for(record.deployment).rates_for(record.prompt_tokens)
        by_unit = _unit_cost(rates, record)
        if by_unit is not None:
            return by_unit
        cached = min(record.cached_tokens, record.prompt_tokens)
        written = min(record.cache_write_tokens, record.prompt_tokens - cached)
        audio = min(record.audio_tokens, record.prompt_tokens - cached - written)
        plain = record.prompt_tokens - cached - written - audio
        read_rate = rates.cache_read if rates.cache_read is not None else rates.input
        write_rate = rates.cache_write if rates.cache_write is not None else rates.input
        audio_rate = rates.input_audio if rates.input_audio is not None else rates.input
        output_rate = rates.output
        if record.call_type == "image_generation" and rates.output_image is not None:
            output_rate = rates.output_image
        return (
            plain * rates.input
            + cached * read_rate
            + written * write_rate
            + audio * audio_rate
            + record.completion_tokens * output_rate
        )

    def estimate(self, deployment: Deployment | None, prompt_tokens: int, max_tokens: int) -> float:
        if deployment is None:
            return 0.0
        rates = self.price_for(deployment).rates_for(prompt_tokens)
        return prompt_tokens * rates.input + max_tokens * rates.output
