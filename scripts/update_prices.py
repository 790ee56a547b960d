"""Regenerate `gateway/spend/prices.json` from the `genai-prices` package (a dev dependency).

    uv run python scripts/update_prices.py           # write the table
    uv run python scripts/update_prices.py --check   # exit 1 if the table is out of date

Why a generated file and not the package at run time: importing genai-prices costs the
gateway about 23 MB of RSS and one to three seconds of start-up (its data module builds
every price object at import), for a lookup the gateway needs once per deployment. The
table keeps what the gateway bills by: per-token prices for input, output, cache reads and
cache writes (with the prompt-size tiers some models have), audio tokens in and image tokens
out, and the media units: per character spoken, per second of audio; per provider, keyed by the
exact model names and name prefixes genai-prices matches on. Bump the package, run this,
commit; the suite fails while the two disagree (`tests/gateway/spend/test_price_table.py`).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

from genai_prices import data_snapshot, types

TABLE = Path(__file__).resolve().parent.parent / "gateway" / "spend" / "prices.json"

# genai-prices providers the gateway can route to (LiteLLM prefixes map onto these in
# gateway/spend/prices.py); the others are left out to keep the table small.
PROVIDERS = (
    "anthropic",
    "aws",
    "azure",
    "cerebras",
    "cohere",
    "deepseek",
    "fireworks",
    "google",
    "groq",
    "mistral",
    "openai",
    "openrouter",
    "perplexity",
    "together",
    "x-ai",
)
# price key in genai-prices -> key in our table (all per million tokens there, per token here)
PRICE_KEYS = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
    "input_audio_mtok": "input_audio",  # transcription: audio tokens in
    "output_image_mtok": "output_image",  # image generation: image tokens out
}
# media units (images, speech, transcription): genai-prices key -> (our key, divisor to one unit)
UNIT_KEYS = {
    "input_mchars": ("per_character", Decimal(1_000_000)),
    "audio_hours": ("per_second", Decimal(3600)),
}
PER_TOKEN = Decimal(1_000_000)


def _per_token(value: Decimal) -> float:
    return float(value / PER_TOKEN)


def _price(model_price: types.ModelPrice) -> dict[str, Any] | None:
    """Base prices, plus tiers: crossing a tier's prompt size prices every token at it."""
    base: dict[str, float] = {}
    tiers: dict[int, dict[str, float]] = {}
    for source_key, key in PRICE_KEYS.items():
        value = getattr(model_price, source_key, None)
        if value is None:
            continue
        if isinstance(value, types.TieredPrices):
            base[key] = _per_token(value.base)
            for tier in value.tiers:
                tiers.setdefault(tier.start, {})[key] = _per_token(tier.price)
        else:
            base[key] = _per_token(value)
    units = {
        key: float(value / per)
        for source_key, (key, per) in UNIT_KEYS.items()
        if isinstance(value := getattr(model_price, source_key, None), Decimal)
    }
    if ("input" not in base or "output" not in base) and not units:
        return None  # billed by units the gateway does not count (requests, searches)
    base.update(units)
    if tiers:
        base["tiers"] = [{"above": start, **tiers[start]} for start in sorted(tiers)]  # type: ignore[dict-item]
    return base


def _names(logic: Any) -> tuple[list[str], list[str], list[str]]:
    """The exact names, name prefixes and name parts a match rule accepts; other clause kinds
    (regex, ends_with, and) are not kept, and such a model is found by its id only. Bedrock's
    models are matched by name parts (`claude-3-5-sonnet-20240620` in
    `us.anthropic.claude-3-5-sonnet-20240620-v1:0`), so those are kept too."""
    if isinstance(logic, types.ClauseEquals):
        return [logic.equals], [], []
    if isinstance(logic, types.ClauseStartsWith):
        return [], [logic.starts_with], []
    if isinstance(logic, types.ClauseContains):
        return [], [], [logic.contains]
    if isinstance(logic, types.ClauseOr):
        exact: list[str] = []
        prefixes: list[str] = []
        parts: list[str] = []
        for clause in logic.or_:
            more_exact, more_prefixes, more_parts = _names(clause)
            exact += more_exact
            prefixes += more_prefixes
            parts += more_parts
        return exact, prefixes, parts
    return [], [], []


def _current_price(model: types.ModelInfo) -> types.ModelPrice:
    """The newest dated price, else the standard one. Never "now": the table must depend on
    the package version alone, or `--check` would go stale on a date. Time-of-day discounts
    (off-peak hours) are not kept: the table bills the standard price."""
    if isinstance(model.prices, types.ModelPrice):
        return model.prices
    dated = [p for p in model.prices if isinstance(p.constraint, types.StartDateConstraint)]
    if dated:
        return max(dated, key=lambda p: p.constraint.start_date).prices  # type: ignore[union-attr]
    return model.prices[0].prices


def _provider_table(
    provider: types.Provider, providers: dict[str, types.Provider]
) -> dict[str, Any]:
    exact: dict[str, dict[str, Any]] = {}
    prefixes: dict[str, dict[str, Any]] = {}
    parts: dict[str, dict[str, Any]] = {}
    models = list(provider.models)
    # one step of fallback, as genai-prices does (Azure serves OpenAI's models, ...);
    # the provider's own models come first, so they win
    for fallback_id in provider.fallback_model_providers or ():
        if fallback_id in providers:
            models += providers[fallback_id].models
    for model in models:
        price = _price(_current_price(model))
        if price is None:
            continue
        names, starts, contained = _names(model.match)
        for name in [model.id.lower(), *(n.lower() for n in names)]:
            exact.setdefault(name, price)
        for start in starts:
            prefixes.setdefault(start.lower(), price)
        for part in contained:
            parts.setdefault(part.lower(), price)
    return {
        "exact": dict(sorted(exact.items())),
        "prefix": dict(sorted(prefixes.items())),
        "contains": dict(sorted(parts.items())),
    }


def build_table() -> dict[str, Any]:
    snapshot = data_snapshot.get_snapshot()
    providers = {provider.id: provider for provider in snapshot.providers}
    return {
        "_doc": "Generated by scripts/update_prices.py from genai-prices; do not edit. "
        "Prices are USD per token; a tier prices every token once the prompt is above it.",
        "source": {"package": "genai-prices", "version": version("genai-prices")},
        "providers": {pid: _provider_table(providers[pid], providers) for pid in PROVIDERS},
    }


def render(table: dict[str, Any]) -> str:
    """JSON with one model a line, so that a price change is a one-line diff."""

    def compact(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    lines = ["{", f' "_doc": {compact(table["_doc"])},', f' "source": {compact(table["source"])},']
    lines.append(' "providers": {')
    provider_blocks = []
    for provider_id, provider in table["providers"].items():
        parts = []
        for kind in ("exact", "prefix", "contains"):
            rows = [
                f"    {compact(name)}: {compact(price)}" for name, price in provider[kind].items()
            ]
            parts.append(
                f'   "{kind}": {{' + ("\n" + ",\n".join(rows) + "\n   " if rows else "") + "}"
            )
        provider_blocks.append(f"  {compact(provider_id)}: {{\n" + ",\n".join(parts) + "\n  }")
    lines.append(",\n".join(provider_blocks))
    lines.append(" }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = parser.parse_args(argv)
    wanted = render(build_table())
    if args.check:
        if TABLE.read_text() != wanted:
            print(f"{TABLE} is out of date: run scripts/update_prices.py", file=sys.stderr)
            return 1
        return 0
    TABLE.write_text(wanted)
    print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
