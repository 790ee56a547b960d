"""Model names read as behaviours (pure parsing, no server)."""

from __future__ import annotations

import pytest

from testing.fake_upstream.behaviour import Behaviour, Content, parse
from testing.fake_upstream.reply import Fault


def test_unknown_names_are_fixed_text() -> None:
    assert parse("gpt-4o") == Behaviour()
    assert parse("openai/gpt-4o-mini") == Behaviour()


def test_tokens_combine() -> None:
    behaviour = parse("echo+latency-50+slow-stream-20")

    assert behaviour.content is Content.ECHO
    assert behaviour.timing.latency_ms == 50
    assert behaviour.timing.chunk_delay_ms == 20


@pytest.mark.parametrize(
    ("name", "fault"),
    [("malformed", Fault.MALFORMED), ("disconnect", Fault.DISCONNECT), ("hang", Fault.HANG)],
)
def test_faults(name: str, fault: Fault) -> None:
    assert parse(name).fault is fault


def test_errors_carry_status_and_retry_after() -> None:
    error = parse("error-429").error

    assert error is not None
    assert error.status == 429
    assert (b"retry-after", b"1") in error.headers


@pytest.mark.parametrize("name", ["error-200", "error-abc", "size-", "latency-x"])
def test_malformed_tokens_are_ignored(name: str) -> None:
    assert parse(name) == Behaviour()


def test_size() -> None:
    behaviour = parse("size-10000")

    assert behaviour.content is Content.SIZED
    assert behaviour.size == 10000
