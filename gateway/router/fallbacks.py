"""Fallback groups in LiteLLM's shapes.

Config: `fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks`, each a list of
one-key mappings `[{"gpt-4o": ["gpt-4o-mini", "claude"]}]`; the key `"*"` matches any group
without its own entry. Request body: `fallbacks` as a list of model names (or the config
shape), which replaces the configured generic fallbacks for that request.

Which list applies is decided from the error class of the failure that exhausted the group:
a context-window error uses `context_window_fallbacks`, a content-policy error
`content_policy_fallbacks` (each falls back to the generic list when it has no entry); any
other deployment-side failure uses `fallbacks`. A plain bad request falls back nowhere:
another model would refuse it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import (
    BadRequestError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    GatewayError,
    RequestTooLargeError,
)

MAX_FALLBACKS = 5  # LiteLLM's ROUTER_MAX_FALLBACKS
CATCH_ALL = "*"

FallbackMap = dict[str, tuple[str, ...]]


def parse_fallbacks(entries: Iterable[Mapping[str, Any]] | None, where: str) -> FallbackMap:
    """`[{"a": ["b", "c"]}, ...]` -> {"a": ("b", "c")}; bad shapes raise BadRequestError."""
    found: FallbackMap = {}
    for entry in entries or ():
        if not isinstance(entry, Mapping):
            raise BadRequestError(f"{where}: each entry must be a mapping of model -> [models].")
        for group, targets in entry.items():
            if isinstance(targets, str):
                targets = [targets]
            if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
                raise BadRequestError(f"{where}.{group}: expected a list of model names.")
            found[str(group)] = tuple(targets)
    return found


@dataclass(frozen=True, slots=True)
class Fallbacks:
    generic: FallbackMap = field(default_factory=dict)
    context_window: FallbackMap = field(default_factory=dict)
    content_policy: FallbackMap = field(default_factory=dict)

    def for_failure(
        self,
        group: str,
        error: GatewayError,
        request_generic: Sequence[str] | FallbackMap | None = None,
        request_context_window: FallbackMap | None = None,
    ) -> list[str]:
        """The groups to try, in order, after `group` failed with `error`."""
        generic: Sequence[str] | None
        if isinstance(request_generic, Mapping):
            generic = _lookup({**self.generic, **request_generic}, group)
        elif request_generic is not None:
            generic = request_generic
        else:
            generic = _lookup(self.generic, group)
        chosen: Sequence[str] | None
        if isinstance(error, ContextWindowExceededError):
            table = {**self.context_window, **(request_context_window or {})}
            chosen = _lookup(table, group) or generic
        elif isinstance(error, ContentPolicyViolationError):
            chosen = _lookup(self.content_policy, group) or generic
        elif isinstance(error, BadRequestError | RequestTooLargeError):
            chosen = None
        else:
            chosen = generic
        ordered = [g for g in dict.fromkeys(chosen or ()) if g != group]
        return ordered[:MAX_FALLBACKS]

    def groups_named(self) -> set[str]:
        names: set[str] = set()
        for table in (self.generic, self.context_window, self.content_policy):
            for targets in table.values():
                names.update(targets)
        return names


def _lookup(table: Mapping[str, Sequence[str]], group: str) -> Sequence[str] | None:
    found = table.get(group)
    return found if found is not None else table.get(CATCH_ALL)
