"""The bundled `o200k_base` is tiktoken's: tiktoken's own `o200k_base` constructor, fed the same
file through its cache directory (in a subprocess, so the environment variable stays there),
gives the same split pattern, special tokens and tokens."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.token_counting.local import count_locally
from gateway.token_counting.o200k import (
    DATA,
    PATTERN,
    SPECIAL_TOKENS,
    EncodingFileError,
    mergeable_ranks,
    o200k_base,
)

SAMPLES = [
    "hello world",
    "You are a helpful assistant.",
    "Привет, мир! 你好，世界。 こんにちは",
    "def f(x):\n    return x**2  # they're 12345 tokens?\r\n",
    "   leading spaces and trailing   ",
    "<|endoftext|> is plain text here",
]
TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"

_REFERENCE = """
import json, sys, tiktoken
from tiktoken_ext.openai_public import o200k_base
spec = o200k_base()
enc = tiktoken.Encoding(**spec)
samples = json.loads(sys.argv[1])
print(json.dumps({
    "pat_str": spec["pat_str"],
    "special_tokens": spec["special_tokens"],
    "tokens": [enc.encode(s, disallowed_special=()) for s in samples],
}))
"""


def test_the_bundled_encoding_is_tiktokens_own(tmp_path: Path) -> None:
    # tiktoken's cache names a file by the SHA-1 of its URL and checks the SHA-256 on load.
    cached = tmp_path / hashlib.sha1(TIKTOKEN_URL.encode()).hexdigest()
    cached.write_bytes(gzip.decompress(DATA.read_bytes()))
    done = subprocess.run(
        [sys.executable, "-c", _REFERENCE, json.dumps(SAMPLES)],
        env={"TIKTOKEN_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    reference = json.loads(done.stdout)
    assert reference["pat_str"] == PATTERN
    assert reference["special_tokens"] == SPECIAL_TOKENS
    ours = o200k_base()
    assert [ours.encode(s, disallowed_special=()) for s in SAMPLES] == reference["tokens"]


def test_gpt_4o_counts_exactly_with_o200k() -> None:
    counted = count_locally("openai/gpt-4o-mini", {"messages": [{"role": "user", "content": "hi"}]})
    assert counted.method == "tiktoken:o200k_base" and counted.estimated is False
    # "hi" is one token in o200k; 3 for the message and 3 to prime the reply
    assert counted.total == 1 + 3 + 3


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    damaged = tmp_path / "o200k_base.tiktoken.gz"
    damaged.write_bytes(gzip.compress(gzip.decompress(DATA.read_bytes())[:-10]))
    with pytest.raises(EncodingFileError, match="SHA-256"):
        mergeable_ranks(damaged)
