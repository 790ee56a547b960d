"""Second paths of a described route, expanded into the served OpenAPI description.

A route that answers under a second path (LiteLLM's unprefixed `/chat/completions`, the
`/end_user/*` alias of `/customer/*`, ...) is listed once in the spec file's
`x-path-aliases` (alias: described path); the served description names every path the app
answers, so tests can hold the two to each other.
"""

from __future__ import annotations

import copy
from typing import Any

ALIASES = "x-path-aliases"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _alias_item(item: dict[str, Any], alias: str) -> dict[str, Any]:
    """A copy of a path item whose operationIds stay unique (Swagger UI links by them)."""
    copied = copy.deepcopy(item)
    words = alias.strip("/").replace("_", "/").replace("{", "").replace("}", "").split("/")
    suffix = "".join(word.capitalize() for word in words)
    for method in _METHODS:
        operation = copied.get(method)
        if isinstance(operation, dict) and "operationId" in operation:
            operation["operationId"] = f"{operation['operationId']}Via{suffix}"
    return copied


def expand_aliases(spec: dict[str, Any]) -> dict[str, Any]:
    expanded = dict(spec)
    aliases: dict[str, str] = expanded.pop(ALIASES, None) or {}
    paths = dict(expanded["paths"])
    for alias, described in aliases.items():
        if described not in paths:
            raise ValueError(f"openapi.yaml: {ALIASES}.{alias} names {described}, not a path")
        paths[alias] = _alias_item(paths[described], alias)
    expanded["paths"] = paths
    return expanded
