"""Summing OpenAI `usage` objects over the loop's model calls."""

from __future__ import annotations

from typing import Any

_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")


def add_usage(total: dict[str, int], usage: Any) -> None:
    if not isinstance(usage, dict):
        return
    for name in _FIELDS:
        value = usage.get(name)
        if isinstance(value, int):
            total[name] = total.get(name, 0) + value


def empty_usage() -> dict[str, int]:
    return dict.fromkeys(_FIELDS, 0)
