"""What an app serves against what its OpenAPI description says, as (path, method) pairs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from starlette.routing import BaseRoute, Mount, Route

_DESCRIBED_METHODS = {"get", "put", "post", "delete", "patch"}


def _template(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # {path:path} -> {path}


def served_operations(routes: Iterable[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """Every (path, method) the routes answer; a mounted app (static files) is `{path}` GET.
    HEAD is left out: Starlette adds it to every GET route."""
    served: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Route):
            path = prefix + _template(route.path)
            served |= {(path, m.lower()) for m in route.methods or () if m != "HEAD"}
        elif isinstance(route, Mount):
            if route.routes:
                served |= served_operations(route.routes, prefix + route.path)
            else:
                served.add((f"{prefix}{route.path}/{{path}}", "get"))
        else:
            raise AssertionError(f"a route of an unexpected kind: {route!r}")
    return served


def described_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in _DESCRIBED_METHODS
    }
