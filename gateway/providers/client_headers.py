"""`general_settings.forward_client_headers_to_llm_api`: which of the client's headers go to
the provider, as LiteLLM 1.106.2 chooses them (`clean_headers` and
`LiteLLMProxyRequestSetup._get_forwardable_headers` in `proxy/litellm_pre_call_utils.py`):

- never a header that carries the caller's key (`SpecialHeaders`: `authorization`, `api-key`,
  `x-api-key`, `x-goog-api-key`, `ocp-apim-subscription-key`, `x-litellm-api-key`) or MCP
  routing (`x-mcp-auth`, `x-mcp-servers`, `x-mcp-access-groups`);
- of the rest, every `x-*` header except the OpenAI SDK's `x-stainless-*`, and
  `anthropic-beta`.

Every provider applies `Deployment.extra_headers` last, so the forwarded headers ride there,
for this one call only (`with_client_headers`): the deployment's own `extra_headers` win
over a client header of the same name, and a client header wins over one the provider sets
itself (e.g. the `anthropic-beta` a request's features need); no credential header is ever
forwarded, so the provider's authentication always stands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from gateway.deployments import Deployment

NEVER_FORWARDED = frozenset(
    {
        "authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "ocp-apim-subscription-key",
        "x-litellm-api-key",
        "x-mcp-auth",
        "x-mcp-servers",
        "x-mcp-access-groups",
    }
)


def forwardable_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The client's headers to forward, from the ASGI scope's `headers` (names lower-case)."""
    found: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        if name in NEVER_FORWARDED:
            continue
        if (name.startswith("x-") and not name.startswith("x-stainless")) or name.startswith(
            "anthropic-beta"
        ):
            found[name] = raw_value.decode("latin-1")
    return found


def with_client_headers(deployment: Deployment, forwarded: dict[str, str]) -> Deployment:
    """The deployment for one call, with `forwarded` under its own extra headers."""
    if not forwarded:
        return deployment
    own = {name.lower() for name in deployment.extra_headers}
    merged = {k: v for k, v in forwarded.items() if k not in own}
    merged.update(deployment.extra_headers)
    return dataclasses.replace(deployment, extra_headers=merged)
