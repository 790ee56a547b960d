"""Per-request cache controls: the body's `cache` object, in LiteLLM's shape.

    {"cache": {"no-cache": true, "no-store": true, "ttl": 60, "s-maxage": 10, "namespace": "x"}}

`no-cache` skips the lookup (the fresh answer is still stored); `no-store` skips the store;
`ttl` sets this entry's lifetime; `s-maxage` accepts only entries younger than that;
`namespace` keeps entries apart from the default namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import BadRequestError


@dataclass(frozen=True, slots=True)
class CacheControls:
    no_cache: bool = False
    no_store: bool = False
    ttl: float | None = None
    s_maxage: float | None = None
    namespace: str | None = None


NO_CONTROLS = CacheControls()


def _seconds(raw: dict[str, Any], name: str) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadRequestError(
            f"cache.{name} must be a non-negative number of seconds.", param=f"cache.{name}"
        )
    return float(value)


def _flag(raw: dict[str, Any], name: str) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        raise BadRequestError(f"cache.{name} must be true or false.", param=f"cache.{name}")
    return value


def parse_controls(raw: Any) -> CacheControls:
    if raw is None:
        return NO_CONTROLS
    if not isinstance(raw, dict):
        raise BadRequestError("'cache' must be an object of cache controls.", param="cache")
    namespace = raw.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not namespace):
        raise BadRequestError(
            "cache.namespace must be a non-empty string.", param="cache.namespace"
        )
    return CacheControls(
        no_cache=_flag(raw, "no-cache"),
        no_store=_flag(raw, "no-store"),
        ttl=_seconds(raw, "ttl"),
        s_maxage=_seconds(raw, "s-maxage"),
        namespace=namespace,
    )
