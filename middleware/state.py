"""Everything a request needs, built once at startup and passed down (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from middleware.artifacts import ArtifactStore
from middleware.auth import KeyChecker
from middleware.end_user import EndUserResolver
from middleware.gateway_client import GatewayClient
from middleware.loop import ToolLoop
from middleware.mcp_pool import McpPool
from middleware.metrics import Metrics
from middleware.runner import ToolRunner
from middleware.settings import AppSettings
from middleware.tools import ToolCatalog


@dataclass
class AppState:
    settings: AppSettings
    gateway: GatewayClient
    keys: KeyChecker
    pool: McpPool
    store: ArtifactStore
    metrics: Metrics
    runner: ToolRunner
    loop: ToolLoop
    end_users: EndUserResolver = field(
        default_factory=lambda: EndUserResolver(jwt_secret=None, trust_headers=False)
    )
    _catalog: tuple[tuple[int, ...], ToolCatalog] | None = field(default=None, repr=False)

    def catalog(self) -> ToolCatalog:
        """The merged tool catalog, rebuilt only when some server's tool list changed."""
        version = self.pool.version()
        cached = self._catalog
        if cached is not None and cached[0] == version:
            return cached[1]
        catalog = ToolCatalog.build(self.pool.tools())
        self._catalog = (version, catalog)
        return catalog
