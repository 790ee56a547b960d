"""Gemini thought signatures carried inside OpenAI tool call ids.

Gemini's thinking models attach an opaque `thoughtSignature` to each `functionCall` part and
refuse the next turn unless it comes back on that part. OpenAI clients echo a tool call's `id`
faithfully but not extra fields, so the signature is appended to the id after `SEPARATOR` and
split off again when the history is translated back.
"""

from __future__ import annotations

SEPARATOR = "__thought__"


def with_signature(call_id: str, signature: object) -> str:
    if isinstance(signature, str) and signature:
        return f"{call_id}{SEPARATOR}{signature}"
    return call_id


def split_signature(call_id: str) -> tuple[str, str | None]:
    base, found, signature = call_id.partition(SEPARATOR)
    return base, (signature or None) if found else None
