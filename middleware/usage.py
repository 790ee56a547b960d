"""Summing OpenAI `usage` objects over the loop's model calls."""

from __future__ import annotations

from typing import cast

from common.chat import Usage

COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens")


def read_usage(value: object) -> Usage | None:
    """A `usage` the gateway sent, as a `Usage`: None unless it is an object. One whose counts
    are all integers is kept as it is (details included); in any other, a count that is missing
    or not an integer is 0."""
    if not isinstance(value, dict):
        return None
    prompt, completion, total = (value.get(name) for name in COUNTS)
    if isinstance(prompt, int) and isinstance(completion, int) and isinstance(total, int):
        return cast(Usage, value)  # the required counts were checked; the rest passes through
    return {
        "prompt_tokens": prompt if isinstance(prompt, int) else 0,
        "completion_tokens": completion if isinstance(completion, int) else 0,
        "total_tokens": total if isinstance(total, int) else 0,
    }


def add_usage(total: Usage, usage: Usage | None) -> None:
    if usage is None:
        return
    total["prompt_tokens"] += usage["prompt_tokens"]
    total["completion_tokens"] += usage["completion_tokens"]
    total["total_tokens"] += usage["total_tokens"]


def empty_usage() -> Usage:
    return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
