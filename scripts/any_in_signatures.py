"""Count `Any` in function signatures: the measure issue 15 asks to bring down.

    uv run python scripts/any_in_signatures.py gateway/providers [middleware ...]

A parameter or return annotation counts once per `Any` it spells, and once more when it names
an alias that spells `Any` (such as `JSON = dict[str, Any]`), because such an alias hides the
same hole from mypy. An alias counts where it is defined at module level and where it is
imported from the module that defines it (`from common.chat import JSONObject`); a name is
resolved through the imports of the file that uses it, so a TypedDict named like another
module's alias is not counted. Run from the repository root. Prints one line per path and the
total.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def _module_file(module: str) -> Path | None:
    base = Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


class _AliasIndex:
    """Per module, the names that stand for an annotation spelling `Any`: its own module-level
    aliases, and those it imports from modules of this repository."""

    def __init__(self) -> None:
        self._known: dict[Path, frozenset[str]] = {}
        self._reading: set[Path] = set()  # an import cycle: a module being read exports nothing

    def aliases(self, path: Path) -> frozenset[str]:
        if path in self._known:
            return self._known[path]
        if path in self._reading:
            return frozenset()
        self._reading.add(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = self._imported(tree)
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and _count_in(value, frozenset(found)):
                found.add(target.id)
        self._reading.discard(path)
        self._known[path] = frozenset(found)
        return self._known[path]

    def _imported(self, tree: ast.Module) -> set[str]:
        found: set[str] = set()
        for node in tree.body:
            if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
                continue
            source = _module_file(node.module)
            if source is None:
                continue
            exported = self.aliases(source)
            found |= {a.asname or a.name for a in node.names if a.name in exported}
        return found


def _count_in(annotation: ast.expr | None, aliases: frozenset[str]) -> int:
    if annotation is None:
        return 0
    names = [n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)]
    names += [n.attr for n in ast.walk(annotation) if isinstance(n, ast.Attribute)]
    return sum(1 for name in names if name == "Any" or name in aliases)


def count_file(path: Path, index: _AliasIndex) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = index.aliases(path)
    total = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        args = node.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        total += sum(_count_in(a.annotation, aliases) for a in every if a is not None)
        total += _count_in(node.returns, aliases)
    return total


def main(paths: list[str]) -> None:
    index = _AliasIndex()
    grand = 0
    for root in paths:
        subtotal = sum(count_file(f, index) for f in sorted(Path(root).rglob("*.py")))
        print(f"{root}: {subtotal}")
        grand += subtotal
    print(f"total: {grand}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["gateway/providers"])
