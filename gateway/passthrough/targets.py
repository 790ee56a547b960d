"""Where each pass-through route goes and how it authenticates there.

Credentials come from the environment as in LiteLLM (`OPENAI_API_KEY` / `OPENAI_API_BASE`,
`ANTHROPIC_API_KEY` / `ANTHROPIC_API_BASE`, `GEMINI_API_KEY` / `GEMINI_API_BASE`), else from
the first `model_list` deployment of that provider, so a config that already names its
providers needs nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from gateway.deployments import Deployment


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _anthropic(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def _gemini(key: str) -> dict[str, str]:
    return {"x-goog-api-key": key}


@dataclass(frozen=True)
class Provider:
    name: str
    env_prefix: str
    default_base: str
    auth_headers: Callable[[str], dict[str, str]]
    # the client's own credentials, which must never reach the provider
    client_auth: tuple[str, ...] = field(default=("authorization", "x-api-key"))


PROVIDERS: dict[str, Provider] = {
    "openai": Provider("openai", "OPENAI", "https://api.openai.com", _bearer),
    "anthropic": Provider("anthropic", "ANTHROPIC", "https://api.anthropic.com", _anthropic),
    "gemini": Provider(
        "gemini",
        "GEMINI",
        "https://generativelanguage.googleapis.com",
        _gemini,
        ("authorization", "x-api-key", "x-goog-api-key"),
    ),
}


@dataclass(frozen=True)
class Target:
    provider: Provider
    base: str
    api_key: str | None = field(repr=False)

    def url(self, path: str) -> str:
        """`base` + `path`, without doubling a version segment both spell (`.../v1` + `v1/...`)."""
        base = self.base.rstrip("/")
        first, _, rest = path.lstrip("/").partition("/")
        if base.endswith("/" + first):
            return f"{base}/{rest}"
        return f"{base}/{path.lstrip('/')}"


def resolve(
    provider: Provider, environ: Mapping[str, str], deployments: Sequence[Deployment]
) -> Target:
    configured = next((d for d in deployments if d.provider == provider.name), None)
    key = environ.get(f"{provider.env_prefix}_API_KEY") or (
        configured.api_key if configured else None
    )
    base = (
        environ.get(f"{provider.env_prefix}_API_BASE")
        or (configured.api_base if configured else None)
        or provider.default_base
    )
    return Target(provider, base, key)
