"""Which MCP servers and tools a key may use, read from the key's metadata.

Key metadata (LiteLLM `/key/info` -> `info.metadata`):
    mcp_servers: [server names]   only these servers' tools
    mcp_tools:   [tool names]     only these tools (MCP names or exposed names)
Either limits; absent means all. The master key sees everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ToolPermissions:
    servers: frozenset[str] | None = None
    tools: frozenset[str] | None = None

    def allows(self, server: str, tool: str, exposed: str | None = None) -> bool:
        if self.servers is not None and server not in self.servers:
            return False
        if self.tools is not None:
            return tool in self.tools or (exposed is not None and exposed in self.tools)
        return True


ALL_TOOLS = ToolPermissions()


def _names(value: object) -> frozenset[str] | None:
    if isinstance(value, list):
        return frozenset(str(item) for item in value)
    return None


def permissions_from_metadata(metadata: Mapping[str, object] | None) -> ToolPermissions:
    if not metadata:
        return ALL_TOOLS
    return ToolPermissions(
        servers=_names(metadata.get("mcp_servers")), tools=_names(metadata.get("mcp_tools"))
    )
