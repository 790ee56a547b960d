"""`common` sits below the services: they may import it, it imports none of them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "middleware", "mcp_servers", "toolrelay", "testing")


def _imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_common_imports_no_service() -> None:
    files = sorted((ROOT / "common").rglob("*.py"))
    assert files, "common/ has no modules"
    offending = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in _imported_modules(path)
        if name.split(".", 1)[0] in SERVICES
    ]
    assert offending == []
