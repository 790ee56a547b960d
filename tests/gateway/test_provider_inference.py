"""A bare model name goes to the provider that makes it, read from the bundled price table
and a few name families; anything unknown stays OpenAI-compatible, as before."""

from __future__ import annotations

import pytest

from gateway.deployments import split_provider
from gateway.provider_inference import FIRST_PARTY, ProviderNames, bundled_provider_names


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("claude-3-5-sonnet-20241022", "anthropic"),  # a dated snapshot of a listed name
        ("claude-3-haiku", "anthropic"),  # also in Google's table (Vertex): the maker wins
        ("gemini-2.0-flash", "gemini"),
        ("command-r-plus", "cohere"),
        ("gpt-4o", "openai"),
        ("o3-pro", "openai"),
        ("text-embedding-3-small", "openai"),
        ("mistral-large-latest", "mistral"),
        ("deepseek-chat", "deepseek"),
        ("grok-3", "xai"),
        # newer than the table: the maker's name family
        ("claude-opus-9-20300101", "anthropic"),
        ("gemini-9.0-ultra", "gemini"),
        ("command-z", "cohere"),
    ],
)
def test_a_known_bare_name_goes_to_its_maker(model: str, provider: str) -> None:
    assert split_provider(model) == (provider, model)


@pytest.mark.parametrize("model", ["my-local-model", "llama3", "Qwen2.5-7B-Instruct"])
def test_an_unknown_bare_name_stays_openai_compatible(model: str) -> None:
    assert split_provider(model) == ("openai", model)


def test_an_explicit_prefix_is_never_second_guessed() -> None:
    assert split_provider("openai/claude-3-5-sonnet") == ("openai", "claude-3-5-sonnet")
    assert split_provider("groq/llama-3.1-8b-instant") == ("groq", "llama-3.1-8b-instant")


def test_the_bundled_table_lists_names_for_every_maker() -> None:
    names = bundled_provider_names()
    for _, provider in FIRST_PARTY:
        assert names.exact[provider], f"the price table lists no {provider} model"


def test_the_longest_listed_prefix_wins_across_makers() -> None:
    table = {
        "providers": {
            "openai": {"exact": {}, "prefix": {"shared": {}}},
            "mistral": {"exact": {}, "prefix": {"shared-long": {}}},
        }
    }
    names = ProviderNames.from_price_table(table)
    assert names.infer("shared-long-1") == "mistral"
    assert names.infer("shared-1") == "openai"
    assert names.infer("nothing-known") is None
