"""Which provider serves a model named without a `provider/` prefix, as LiteLLM infers it.

LiteLLM looks a bare name up in its model map (`litellm_provider`) and then in its lists of
known names. We use the data we already ship: the generated price table (prices.json, from
genai-prices) lists, per provider, the exact names and name prefixes that provider serves.
A bare name is looked up in the tables of the providers that make their own models, in the
order of `FIRST_PARTY` (so a model some other vendor also hosts goes to its maker): the exact
name, then a dated snapshot of a listed name (`claude-3-5-sonnet-20241022`), then the
longest listed prefix. A name the table does not know yet falls to `NAME_RULES`, the name
families each maker has used for years. Anything else stays OpenAI-compatible, as before.

A bare `gemini-*` goes to `gemini/` (Google AI Studio, one API key) rather than LiteLLM's
`vertex_ai/`, which needs a Google Cloud project: name the provider to get Vertex.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

DEFAULT_PROVIDER = "openai"

# genai-prices provider id -> our provider prefix, makers first. The tables of hosts that
# serve other makers' models (azure, aws, openrouter, together, groq, fireworks, ...) are
# not consulted: a bare name means the maker's own API, as in LiteLLM. Google's table also
# lists Anthropic's models (Vertex serves them): Anthropic comes first, so they stay Claude.
FIRST_PARTY: tuple[tuple[str, str], ...] = (
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("google", "gemini"),
    ("mistral", "mistral"),
    ("cohere", "cohere"),
    ("deepseek", "deepseek"),
    ("x-ai", "xai"),
    ("perplexity", "perplexity"),
)
# Name families for names newer than the table, checked in order after it.
NAME_RULES: tuple[tuple[str, str], ...] = (
    ("claude-", "anthropic"),
    ("gemini-", "gemini"),
    ("command", "cohere"),
    ("mistral-", "mistral"),
    ("open-mistral-", "mistral"),
    ("codestral-", "mistral"),
    ("ministral-", "mistral"),
    ("pixtral-", "mistral"),
    ("magistral-", "mistral"),
    ("deepseek-", "deepseek"),
    ("grok-", "xai"),
    ("sonar", "perplexity"),
)


@dataclass(frozen=True, slots=True)
class ProviderNames:
    """Per provider prefix: the exact names and the name prefixes it serves (lower case)."""

    exact: Mapping[str, frozenset[str]]
    prefixes: Mapping[str, frozenset[str]]
    order: tuple[str, ...]

    @classmethod
    def from_price_table(cls, raw: Mapping[str, object]) -> ProviderNames:
        tables = raw["providers"]
        assert isinstance(tables, Mapping)
        exact: dict[str, frozenset[str]] = {}
        prefixes: dict[str, frozenset[str]] = {}
        for source, provider in FIRST_PARTY:
            table = tables.get(source) or {}
            exact[provider] = frozenset(table.get("exact") or ())
            prefixes[provider] = frozenset(table.get("prefix") or ())
        return cls(exact, prefixes, tuple(provider for _, provider in FIRST_PARTY))

    def infer(self, model: str) -> str | None:
        """The provider that makes `model` (a bare name), or None when nobody is known to."""
        name = model.lower()
        for provider in self.order:
            if name in self.exact[provider]:
                return provider
        for provider in self.order:
            if any(name.startswith(known + "-") for known in self.exact[provider]):
                return provider
        longest: tuple[int, str] | None = None
        for provider in self.order:
            for prefix in self.prefixes[provider]:
                if name.startswith(prefix) and (longest is None or len(prefix) > longest[0]):
                    longest = (len(prefix), provider)
        if longest is not None:
            return longest[1]
        for start, provider in NAME_RULES:
            if name.startswith(start):
                return provider
        return None


@cache
def bundled_provider_names() -> ProviderNames:
    """Read once per process: the table ships with the code and never changes at run time."""
    text = resources.files("gateway.spend").joinpath("prices.json").read_text()
    return ProviderNames.from_price_table(json.loads(text))


def infer_provider(model: str) -> str | None:
    return bundled_provider_names().infer(model)
