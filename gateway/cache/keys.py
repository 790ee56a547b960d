"""Cache keys: the parts of a request that change the answer, hashed in a canonical form.

Two requests share a key when they ask the same model group the same thing with the same
output-affecting parameters. Transport and bookkeeping fields (`stream`, `user`, metadata,
the cache controls themselves) are left out, so a streamed and a non-streamed request share
an entry. Unknown parameters are kept: a parameter we do not know may change the output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

# Fields that never change what the model answers.
IGNORED_FIELDS = frozenset(
    {
        "stream",
        "stream_options",
        "user",
        "metadata",
        "litellm_metadata",
        "tags",
        "cache",
        "caching",
        "timeout",
        "request_timeout",
        "num_retries",
        "fallbacks",
        "context_window_fallbacks",
        "content_policy_fallbacks",
        "extra_headers",
        "api_key",
        "api_base",
        "base_url",
        "litellm_call_id",
        "litellm_session_id",
    }
)


def cache_fields(call_type: str, model_group: str, body: Mapping[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    fields["model"] = model_group
    fields["__call_type"] = call_type
    return fields


def cache_key(
    namespace: str | None, call_type: str, model_group: str, body: Mapping[str, Any]
) -> str:
    """`namespace:sha256` (or just the hash), like LiteLLM's namespaced keys."""
    canonical = orjson.dumps(
        cache_fields(call_type, model_group, body),
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
    )
    digest = hashlib.sha256(canonical).hexdigest()
    return f"{namespace}:{digest}" if namespace else digest
