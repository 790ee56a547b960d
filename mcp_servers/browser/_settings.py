"""The browser server's settings (`mcp_server_settings.browser`)."""

from __future__ import annotations

from pydantic import Field

from mcp_servers._config import ServerSettings

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--disable-default-apps",
    "--disable-client-side-phishing-detection",
    "--disable-features=AutofillServerCommunication,OptimizationHints,Translate,MediaRouter",
)


class BrowserSettings(ServerSettings):
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts, IPs or CIDRs the browser may reach although private/loopback.",
    )
    executable_path: str | None = Field(
        default="/usr/bin/chromium", description="Chromium binary; null for Playwright's own."
    )
    extra_args: list[str] = Field(default_factory=list)
    max_contexts: int = Field(
        default=8, ge=1, description="Open sessions (browser contexts) at most."
    )
    idle_timeout: float = Field(
        default=600.0, gt=0, description="Close a session's context after this idle time."
    )
    navigation_timeout: float = Field(default=20.0, gt=0)
    action_timeout: float = Field(default=10.0, gt=0)
    viewport_width: int = Field(default=1280, ge=100, le=4096)
    viewport_height: int = Field(default=800, ge=100, le=4096)
    max_extract_length: int = Field(
        default=100_000, ge=1, description="Upper bound for browser_extract."
    )
