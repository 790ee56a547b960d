"""Find the route for a request: exact paths by dict lookup, `{param}` paths by pattern.

Every path is also reachable with a `/v1` prefix, as OpenAI-compatible servers accept both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .formats import Route

VERSION_PREFIX = "/v1"
_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*\+?)\}")


@dataclass(frozen=True, slots=True)
class Match:
    route: Route | None  # None: no route for this method (see `allowed`) or no such path
    allowed: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)


_NO_MATCH = Match(None)


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self._exact: dict[str, dict[str, Route]] = {}
        self._patterns: list[tuple[re.Pattern[str], dict[str, Route]]] = []
        patterns: dict[str, dict[str, Route]] = {}
        for route in routes:
            if _PARAM.search(route.path):
                patterns.setdefault(route.path, {})[route.method] = route
            else:
                # Both spellings in the dict, so the hot path is a single lookup.
                for spelling in (route.path, VERSION_PREFIX + route.path):
                    self._exact.setdefault(spelling, {})[route.method] = route
        for path, by_method in patterns.items():
            self._patterns.append((_compile(path), by_method))

    def match(self, method: str, path: str) -> Match:
        found = self._find(method, path)
        if found is _NO_MATCH and path.startswith(VERSION_PREFIX + "/") and self._patterns:
            found = self._find(method, path[len(VERSION_PREFIX) :])
        return found

    def _find(self, method: str, path: str) -> Match:
        by_method = self._exact.get(path)
        params: dict[str, str] = {}
        if by_method is None:
            for pattern, candidates in self._patterns:
                matched = pattern.match(path)
                if matched:
                    by_method, params = candidates, matched.groupdict()
                    break
            else:
                return _NO_MATCH
        route = by_method.get(method)
        if route is None:
            return Match(None, tuple(by_method))
        return Match(route, params=params)


def _compile(path: str) -> re.Pattern[str]:
    """`/openai/deployments/{deployment}/chat/completions` or `/v1beta/models/{model}:generate`
    -> a regex with one named group per parameter, each matching within a path segment; a
    greedy `{name+}` (AWS's URI labels) spans segments: a Bedrock ARN model id holds a `/`."""
    pieces = _PARAM.split(path)  # literal, name, literal, name, ..., literal
    regex = "".join(
        re.escape(piece) if index % 2 == 0 else _group(piece) for index, piece in enumerate(pieces)
    )
    return re.compile(regex + "$")


def _group(name: str) -> str:
    if name.endswith("+"):
        return f"(?P<{name[:-1]}>.+?)"
    return f"(?P<{name}>[^/]+?)"
