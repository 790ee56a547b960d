"""`router_settings.model_group_alias`, LiteLLM's: `{alias: group}` or
`{alias: {model: group, hidden: true}}`. A request for the alias is served by the group (its
fallbacks, limits and spend are the group's); a hidden alias is not listed in `/v1/models`."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from gateway.config.schema import ModelGroupAlias
from gateway.router.groups import ModelGroups

log = structlog.get_logger("toolrelay.gateway.router")


def install_aliases(groups: ModelGroups, entries: Mapping[str, str | ModelGroupAlias]) -> None:
    hidden: set[str] = set()
    for alias, target in entries.items():
        group = target if isinstance(target, str) else target.model
        if alias in groups.groups:
            log.warning(
                "model_group_alias names a configured model group; the group is served",
                alias=alias,
            )
            continue
        if group not in groups.groups:
            # not fatal: a model added at runtime (/model/new) may take the name later
            log.warning(
                "model_group_alias points at a model group that is not configured",
                alias=alias,
                model_group=group,
            )
        groups.aliases[alias] = group
        if isinstance(target, ModelGroupAlias) and target.hidden:
            hidden.add(alias)
    groups.hidden = frozenset(hidden)
    if groups.aliases:
        log.info("model group aliases", aliases=groups.aliases, hidden=sorted(hidden))
