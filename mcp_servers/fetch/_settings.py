"""The fetch server's settings (`mcp_server_settings.fetch`)."""

from __future__ import annotations

from pydantic import Field

from mcp_servers._config import ServerSettings


class FetchSettings(ServerSettings):
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts, IPs or CIDRs that may be fetched although private/loopback.",
    )
    max_bytes: int = Field(default=5_000_000, gt=0, description="Largest response body downloaded.")
    timeout: float = Field(default=20.0, gt=0, description="Seconds for the whole download.")
    max_redirects: int = Field(default=5, ge=0)
    respect_robots: bool = Field(default=False, description="Refuse URLs robots.txt disallows.")
    user_agent: str = "toolrelay-fetch/0.1 (+https://github.com/toolrelay)"
