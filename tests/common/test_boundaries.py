"""Imports go one way: `common` imports no service, and middleware and the MCP servers
read their config through `common.config`, never through the gateway's."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_common_imports_no_service() -> None:
    services = ("gateway", "middleware", "mcp_servers", "toolrelay")
    offenders = {
        path: sorted(n for n in names if n.split(".")[0] in services)
        for path, names in _imports("common").items()
    }
    assert {p: n for p, n in offenders.items() if n} == {}


def test_middleware_and_mcp_servers_do_not_import_the_gateway_config() -> None:
    offenders = {}
    for package in ("middleware", "mcp_servers"):
        for path, names in _imports(package).items():
            bad = sorted(
                n for n in names if n == "gateway.config" or n.startswith("gateway.config.")
            )
            if bad:
                offenders[path] = bad
    assert offenders == {}


def test_middleware_and_mcp_servers_import_nothing_of_the_gateway() -> None:
    """Tracing, logging and the API docs they share with the gateway live in `common`."""
    offenders = {
        path: sorted(n for n in names if n.split(".")[0] == "gateway")
        for package in ("middleware", "mcp_servers")
        for path, names in _imports(package).items()
    }
    assert {p: n for p, n in offenders.items() if n} == {}
