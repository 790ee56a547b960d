"""Forwarding the client's headers to the provider: for every call
(`general_settings.forward_client_headers_to_llm_api: true`) or for the model groups named
in `litellm_settings.model_group_settings.forward_client_headers_to_llm_api` (names, or
patterns with `*`: `byok/*`), as LiteLLM 1.106.2 has both (`HeaderForwarding`).

Which of the client's headers go to the provider, as LiteLLM 1.106.2 chooses them (`clean_headers` and
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
import re
from collections.abc import Iterable, Sequence

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


@dataclasses.dataclass(frozen=True)
class HeaderForwarding:
    """Whether one call forwards the client's headers. A model group listed in
    `model_group_settings` matches by the group's name or by the model the client asked for
    (a wildcard group's `byok/gpt-4o` under `byok/*`); `*` is the one wildcard, as in
    LiteLLM's model patterns, and matches any run of characters, `/` included."""

    everywhere: bool = False
    groups: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def from_settings(cls, everywhere: bool, named: Sequence[str]) -> HeaderForwarding:
        wildcards = [name for name in named if "*" in name]
        return cls(
            everywhere=everywhere,
            groups=frozenset(name for name in named if "*" not in name),
            patterns=tuple(
                re.compile(".*".join(re.escape(part) for part in name.split("*")))
                for name in wildcards
            ),
        )

    def applies(self, group: str, requested: str | None) -> bool:
        if self.everywhere:
            return True
        if group in self.groups or requested in self.groups:
            return True
        return any(
            pattern.fullmatch(group) or (requested and pattern.fullmatch(requested))
            for pattern in self.patterns
        )
