"""The bundled price table (`prices.json`, documented inside) and cost per request."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import structlog

from gateway.deployments import Deployment
from gateway.hooks import CallRecord

log = structlog.get_logger("toolrelay.spend")


@dataclass(frozen=True, slots=True)
class Price:
    input: float
    output: float
    cached_input: float | None = None


FREE = Price(0.0, 0.0, 0.0)


@dataclass
class PriceTable:
    models: Mapping[str, Mapping[str, Price]]
    aliases: Mapping[str, str] = field(default_factory=dict)
    free_providers: frozenset[str] = frozenset()
    _warned: set[str] = field(default_factory=set)

    @classmethod
    def bundled(cls) -> PriceTable:
        raw = json.loads(resources.files("gateway.spend").joinpath("prices.json").read_text())
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> PriceTable:
        models = {
            provider: {name: Price(**entry) for name, entry in entries.items()}
            for provider, entries in raw["models"].items()
        }
        return cls(
            models=models,
            aliases=dict(raw.get("aliases", {})),
            free_providers=frozenset(raw.get("free_providers", ())),
        )

    def lookup(self, provider: str, model: str) -> Price | None:
        provider = self.aliases.get(provider, provider)
        if provider in self.free_providers:
            return FREE
        table = self.models.get(provider)
        if table is None:
            return None
        if model in table:
            return table[model]
        # Dated snapshots ("gpt-4o-2024-08-06") use their family's price: longest prefix wins.
        matches = [name for name in table if model.startswith(name + "-")]
        return table[max(matches, key=len)] if matches else None

    def price_for(self, deployment: Deployment) -> Price:
        table_price = self._table_price(deployment)
        if deployment.input_cost_per_token is None and deployment.output_cost_per_token is None:
            if table_price is None:
                self._warn_unpriced(deployment)
                return FREE
            return table_price
        base = table_price or FREE
        return Price(
            input=deployment.input_cost_per_token
            if deployment.input_cost_per_token is not None
            else base.input,
            output=deployment.output_cost_per_token
            if deployment.output_cost_per_token is not None
            else base.output,
            cached_input=None,
        )

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
        price = self.price_for(record.deployment)
        cached = min(record.cached_tokens, record.prompt_tokens)
        cached_price = price.cached_input if price.cached_input is not None else price.input
        return (
            (record.prompt_tokens - cached) * price.input
            + cached * cached_price
            + record.completion_tokens * price.output
        )

    def estimate(self, deployment: Deployment | None, prompt_tokens: int, max_tokens: int) -> float:
        if deployment is None:
            return 0.0
        price = self.price_for(deployment)
        return prompt_tokens * price.input + max_tokens * price.output
