"""OpenAI's `o200k_base` encoding (GPT-4o, GPT-4.1, GPT-5, the o-series) from a copy in this
package, so counting never downloads anything.

`o200k_base.tiktoken.gz` is OpenAI's published `o200k_base.tiktoken` (taken from LiteLLM's
PyPI package, which ships it for the same reason), gzipped. Its SHA-256 is the one tiktoken
itself checks for this file; the split pattern and special tokens are tiktoken's, and a test
checks that this encoding and tiktoken's own `o200k_base` give the same tokens.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from pathlib import Path

import tiktoken

O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
DATA = Path(__file__).with_name("o200k_base.tiktoken.gz")
# The encoding's pre-tokenizer: words with their leading punctuation and English
# contractions, numbers of up to three digits, punctuation runs, and whitespace.
PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
SPECIAL_TOKENS = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}


class EncodingFileError(RuntimeError):
    """The bundled file is not the one tiktoken publishes (a broken install)."""


def mergeable_ranks(data: Path = DATA) -> dict[bytes, int]:
    raw = gzip.decompress(data.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != O200K_SHA256:
        raise EncodingFileError(f"{data} has SHA-256 {digest}, expected {O200K_SHA256}")
    ranks: dict[bytes, int] = {}
    for line in raw.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def o200k_base() -> tiktoken.Encoding:
    return tiktoken.Encoding(
        name="o200k_base",
        pat_str=PATTERN,
        mergeable_ranks=mergeable_ranks(),
        special_tokens=SPECIAL_TOKENS,
    )
