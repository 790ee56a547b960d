"""MCP tools as OpenAI tools: valid unique names, permissions, merging with client tools.

Exposed names fit `^[a-zA-Z0-9_-]{1,64}$`. A name two servers share is prefixed with its
server (`postgres_query`); so is an MCP tool whose name a client tool already uses.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import mcp_types

from common.chat import ChatRequest, JSONObject, Tool
from middleware.permissions import ToolPermissions
from middleware.settings import MiddlewareSettings

_INVALID = re.compile(r"[^a-zA-Z0-9_-]")
MAX_NAME = 64


def valid_name(name: str) -> str:
    cleaned = _INVALID.sub("_", name) or "tool"
    if len(cleaned) <= MAX_NAME:
        return cleaned
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{cleaned[: MAX_NAME - 9]}_{digest}"


def _unique(name: str, taken: set[str]) -> str:
    candidate = name
    n = 2
    while candidate in taken:
        suffix = f"_{n}"
        candidate = f"{name[: MAX_NAME - len(suffix)]}{suffix}"
        n += 1
    return candidate


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    exposed: str
    server: str
    tool: str
    description: str
    parameters: JSONObject  # the MCP tool's input JSON schema

    def spec(self, name: str | None = None) -> Tool:
        return {
            "type": "function",
            "function": {
                "name": name or self.exposed,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class ToolCatalog:
    entries: dict[str, CatalogEntry] = field(default_factory=dict)

    @classmethod
    def build(cls, tools_by_server: Mapping[str, Iterable[mcp_types.Tool]]) -> ToolCatalog:
        listed = [(server, tool) for server, tools in tools_by_server.items() for tool in tools]
        counts: dict[str, int] = {}
        for _, tool in listed:
            base = valid_name(tool.name)
            counts[base] = counts.get(base, 0) + 1
        entries: dict[str, CatalogEntry] = {}
        for server, tool in listed:
            base = valid_name(tool.name)
            name = base if counts[base] == 1 else valid_name(f"{server}_{tool.name}")
            name = _unique(name, set(entries))
            parameters = dict(tool.input_schema or {"type": "object"})
            parameters.setdefault("type", "object")
            if parameters["type"] == "object":
                parameters.setdefault("properties", {})
            entries[name] = CatalogEntry(
                exposed=name,
                server=server,
                tool=tool.name,
                description=(tool.description or tool.title or tool.name)[:1024],
                parameters=parameters,
            )
        return cls(entries)

    def visible(self, permissions: ToolPermissions) -> list[CatalogEntry]:
        return [
            entry
            for entry in self.entries.values()
            if permissions.allows(entry.server, entry.tool, entry.exposed)
        ]

    def by_server(self, permissions: ToolPermissions) -> dict[str, list[CatalogEntry]]:
        grouped: dict[str, list[CatalogEntry]] = {}
        for entry in self.visible(permissions):
            grouped.setdefault(entry.server, []).append(entry)
        return grouped


@dataclass(frozen=True)
class RequestTools:
    """The tools of one chat request: what the model is offered and who runs each."""

    specs: list[Tool]
    mcp: dict[str, CatalogEntry]  # name the model uses -> MCP tool
    client_names: frozenset[str]


def client_tool_names(tools: list[Tool]) -> frozenset[str]:
    names: set[str] = set()
    for tool in tools:
        function = tool.get("function")
        # a tool's `function` is an object, but its `name` is not checked at the route
        if function is not None and isinstance(function.get("name"), str):
            names.add(function["name"])
    return frozenset(names)


def merge_tools(
    catalog: ToolCatalog,
    permissions: ToolPermissions,
    client_tools: list[Tool] | None,
    inject: bool,
) -> RequestTools:
    client = list(client_tools or ())
    client_names = client_tool_names(client)
    if not inject:
        return RequestTools(client, {}, client_names)
    mcp: dict[str, CatalogEntry] = {}
    taken = set(client_names)
    specs = list(client)
    for entry in catalog.visible(permissions):
        name = entry.exposed
        if name in taken:
            name = _unique(valid_name(f"{entry.server}_{entry.tool}"), taken)
        taken.add(name)
        mcp[name] = entry
        specs.append(entry.spec(name))
    return RequestTools(specs, mcp, client_names)


def should_inject(settings: MiddlewareSettings, body: ChatRequest) -> bool:
    if settings.inject_tools == "never":
        return False
    model = body["model"]
    if any(fnmatchcase(model, pattern) for pattern in settings.no_tool_models):
        return False
    if settings.inject_tools == "always":
        return True
    if settings.tool_models is not None and not any(
        fnmatchcase(model, pattern) for pattern in settings.tool_models
    ):
        return False
    return body.get("tool_choice") != "none"
