from __future__ import annotations

import re

import mcp_types

from middleware.permissions import ToolPermissions, permissions_from_metadata
from middleware.settings import MiddlewareSettings
from middleware.tools import ToolCatalog, merge_tools, should_inject, valid_name

VALID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _tool(name: str) -> mcp_types.Tool:
    return mcp_types.Tool(name=name, input_schema={"type": "object"})


def test_names_are_valid_and_unique_with_server_prefix_on_collision() -> None:
    catalog = ToolCatalog.build(
        {
            "pg": [_tool("query"), _tool("list.tables")],
            "other": [_tool("query"), _tool("x" * 80)],
        }
    )
    names = set(catalog.entries)
    assert {"pg_query", "other_query", "list_tables"} <= names
    assert all(VALID.match(name) for name in names)
    assert len(names) == 4
    assert catalog.entries["pg_query"].tool == "query"


def test_valid_name_keeps_long_names_distinct() -> None:
    assert valid_name("a" * 70 + "1") != valid_name("a" * 70 + "2")
    assert len(valid_name("a" * 200)) == 64


def test_client_tools_are_merged_and_clashing_mcp_tools_are_prefixed() -> None:
    catalog = ToolCatalog.build({"srv": [_tool("search"), _tool("echo")]})
    client = [{"type": "function", "function": {"name": "search", "parameters": {}}}]
    merged = merge_tools(catalog, ToolPermissions(), client, inject=True)
    assert [t["function"]["name"] for t in merged.specs] == ["search", "srv_search", "echo"]
    assert merged.client_names == {"search"}
    assert merged.mcp["srv_search"].tool == "search"


def test_permissions_limit_servers_and_tools() -> None:
    catalog = ToolCatalog.build({"a": [_tool("one"), _tool("two")], "b": [_tool("three")]})
    only_a = permissions_from_metadata({"mcp_servers": ["a"]})
    assert {e.exposed for e in catalog.visible(only_a)} == {"one", "two"}
    only_three = permissions_from_metadata({"mcp_tools": ["three"]})
    assert {e.exposed for e in catalog.visible(only_three)} == {"three"}
    assert len(catalog.visible(permissions_from_metadata(None))) == 3
    merged = merge_tools(catalog, only_a, None, inject=True)
    assert set(merged.mcp) == {"one", "two"}


def test_which_models_get_tools() -> None:
    auto = MiddlewareSettings(no_tool_models=["embed-*"], tool_models=None)
    assert should_inject(auto, {"model": "gpt"})
    assert not should_inject(auto, {"model": "embed-small"})
    assert not should_inject(auto, {"model": "gpt", "tool_choice": "none"})
    listed = MiddlewareSettings(tool_models=["qwen*"])
    assert should_inject(listed, {"model": "qwen3"}) and not should_inject(listed, {"model": "gpt"})
    assert not should_inject(MiddlewareSettings(inject_tools="never"), {"model": "gpt"})
    assert should_inject(
        MiddlewareSettings(inject_tools="always", tool_models=["x"]), {"model": "gpt"}
    )
