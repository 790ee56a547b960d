"""What a media answer tells spend: images made, characters spoken, audio seconds and tokens.

OpenAI's media usage is not chat's: images and transcriptions report `input_tokens` /
`output_tokens` (with `input_tokens_details` or `input_token_details`), a duration-billed
transcription reports `{"type": "duration", "seconds": N}`, and `verbose_json` carries the
recording's `duration`. OpenAI's speech reports nothing: it is counted by the characters
sent. Gemini's speech reports tokens, priced by tokens where the model has no per-character
price.
"""

from __future__ import annotations

from typing import Any

from gateway.hooks import CallRecord


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _seconds(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 0.0


def record_token_usage(record: CallRecord, usage: Any) -> None:
    """`input_tokens`/`output_tokens` usage (images, transcriptions), into the chat counters."""
    if not isinstance(usage, dict):
        return
    record.prompt_tokens = _count(usage.get("input_tokens"))
    record.completion_tokens = _count(usage.get("output_tokens"))
    for name in ("input_token_details", "input_tokens_details"):
        details = usage.get(name)
        if isinstance(details, dict):
            record.audio_tokens = _count(details.get("audio_tokens"))


def record_images(record: CallRecord, answer: dict[str, Any]) -> None:
    data = answer.get("data")
    record.images = len(data) if isinstance(data, list) else 0
    record_token_usage(record, answer.get("usage"))


def record_speech(record: CallRecord, usage: Any = None) -> None:
    """Characters sent, and the tokens of a provider that reports them (Gemini)."""
    text = record.body.get("input")
    record.characters = len(text) if isinstance(text, str) else 0
    record_token_usage(record, usage)


def record_transcription(record: CallRecord, answer: dict[str, Any]) -> None:
    """Usage from a JSON answer (a text, srt or vtt answer carries none)."""
    usage = answer.get("usage")
    if isinstance(usage, dict) and usage.get("type") == "duration":
        record.audio_seconds = _seconds(usage.get("seconds"))
    else:
        record_token_usage(record, usage)
    if not record.audio_seconds:
        record.audio_seconds = _seconds(answer.get("duration"))


def record_rerank(record: CallRecord, answer: dict[str, Any]) -> None:
    """One query, or Cohere's `meta.billed_units.search_units`; tokens where reported."""
    record.queries = 1
    meta = answer.get("meta")
    billed = meta.get("billed_units") if isinstance(meta, dict) else None
    if isinstance(billed, dict) and _count(billed.get("search_units")):
        record.queries = _count(billed.get("search_units"))
    usage = answer.get("usage")
    if isinstance(usage, dict):
        record.prompt_tokens = _count(usage.get("prompt_tokens")) or _count(
            usage.get("total_tokens")
        )
