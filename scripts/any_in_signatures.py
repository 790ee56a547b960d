"""Count `Any` in function signatures: the measure issue 15 asks to bring down.

    uv run python scripts/any_in_signatures.py gateway/providers [middleware ...]

A parameter or return annotation counts once per `Any` it spells, and once more when it names
a module-level alias that spells `Any` (such as `JSON = dict[str, Any]`), because such an alias
hides the same hole from mypy. Aliases are collected from the scanned paths and from `common/`
(the shared chat contract's `JSONObject` is imported by both services). Prints one line per
path and the total.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def _any_aliases(tree: ast.Module) -> set[str]:
    aliases: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and _count_in(value, set()):
            aliases.add(target.id)
    return aliases


def _count_in(annotation: ast.expr | None, aliases: set[str]) -> int:
    if annotation is None:
        return 0
    names = [n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)]
    names += [n.attr for n in ast.walk(annotation) if isinstance(n, ast.Attribute)]
    return sum(1 for name in names if name == "Any" or name in aliases)


def count_file(path: Path, aliases: set[str]) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local = aliases | _any_aliases(tree)
    total = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        args = node.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        total += sum(_count_in(a.annotation, local) for a in every if a is not None)
        total += _count_in(node.returns, local)
    return total


def main(paths: list[str]) -> None:
    # aliases imported from elsewhere (`from gateway.providers.base import JSON`) are found by
    # collecting every alias in the scanned files, and in the shared contract, first
    files = [f for p in [*paths, "common"] for f in sorted(Path(p).rglob("*.py"))]
    aliases: set[str] = set()
    for file in files:
        aliases |= _any_aliases(ast.parse(file.read_text(encoding="utf-8")))
    grand = 0
    for root in paths:
        subtotal = sum(count_file(f, aliases) for f in sorted(Path(root).rglob("*.py")))
        print(f"{root}: {subtotal}")
        grand += subtotal
    print(f"total: {grand}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["gateway/providers"])
