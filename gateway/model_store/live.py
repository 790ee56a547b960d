"""Put the database's models into the running router: the model groups are rebuilt in place
(config models first), and the router state forgets deployments that went away or changed,
so strategies, cooldowns, limits and prices apply to a stored model as to a config one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import structlog

from gateway.deployments import Deployment
from gateway.router import ModelGroups, Router
from gateway.upstream_tls import UpstreamTls

log = structlog.get_logger("toolrelay.model_store")


@dataclass
class LiveModels:
    groups: ModelGroups
    router: Router
    config_deployments: list[Deployment]
    # A stored model's own ssl_verify applies to its api_base host, as a config model's does.
    tls: UpstreamTls | None = None
    stored_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def config_ids(self) -> frozenset[str]:
        return frozenset(d.id for d in self.config_deployments)

    def is_stored(self, deployment_id: str) -> bool:
        return deployment_id in self.stored_ids

    def apply(self, stored: Iterable[Deployment]) -> None:
        """Make the router serve the config models plus `stored` (no await: atomic)."""
        config_ids = self.config_ids
        kept = [d for d in stored if d.id not in config_ids]
        before = {d.id: d for d in self.groups.all()}
        merged = [*self.config_deployments, *kept]
        after = {d.id: d for d in merged}
        self.groups.groups.clear()
        self.groups.groups.update(ModelGroups.from_deployments(merged).groups)
        if self.tls is not None:
            self.tls.apply(merged)
        state = self.router.state
        for deployment_id, old in before.items():
            if after.get(deployment_id) != old:
                state.forget(deployment_id)
        for deployment_id, new in after.items():
            if before.get(deployment_id) != new:
                state.track(new)
        added = sorted(after.keys() - before.keys())
        removed = sorted(before.keys() - after.keys())
        changed = sorted(i for i in after.keys() & before.keys() if after[i] != before[i])
        if added or removed or changed:
            log.info(
                "stored models applied",
                added=[after[i].model_name for i in added],
                removed=[before[i].model_name for i in removed],
                changed=[after[i].model_name for i in changed],
            )
        self.stored_ids = frozenset(d.id for d in kept)
