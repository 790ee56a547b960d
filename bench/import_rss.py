"""What each import, and each start-up phase, adds to a fresh process's resident memory.

    uv run python bench/import_rss.py gateway.app                  # per import
    uv run python bench/import_rss.py gateway.app --app CONFIG     # + build the app, start it

Runs the measurement in a fresh interpreter (one per invocation) so that nothing this script
imported itself is counted. Every module's execution is timed in RSS (`/proc/self/statm`):
"incl" is the growth while the module and everything it imported ran, "self" the part not
inside a nested import. The package table adds up "self" per top-level package and names the
module that first imported it: the line to change to make a package lazy. RSS moves in pages
and allocator arenas, and memory one import frees is reused by the next, so these figures say
where the heap grew, not what removing a package saves (redis-py showed 19 MB and saved 7):
the phases, measured before and after a change, are the figures to trust. `--app` then builds the gateway as `toolrelay gateway` does (logging, tracing,
`create_app(settle_heap=True)`), runs its lifespan start-up, and reports RSS after each phase
and which packages start-up imported on top of the module's own graph.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Runs inside the measured interpreter; takes argv [module, config-or-empty], prints JSON.
CHILD = r"""
import gc, json, os, sys, time
import importlib._bootstrap as bootstrap

PAGE = os.sysconf("SC_PAGE_SIZE")

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE

records = {}       # module name -> [incl, self, parent]
stack = []         # [name, bytes of nested imports]
original = bootstrap._load_unlocked

def measured(spec):
    parent = stack[-1][0] if stack else None
    stack.append([spec.name, 0])
    before = rss()
    try:
        return original(spec)
    finally:
        grown = rss() - before
        _, nested = stack.pop()
        records[spec.name] = [grown, grown - nested, parent]
        if stack:
            stack[-1][1] += grown

module, config = sys.argv[1], sys.argv[2]
phases = [("interpreter", rss())]
bootstrap._load_unlocked = measured
__import__(module)
bootstrap._load_unlocked = original
phases.append(("import " + module, rss()))
imported = set(sys.modules)
if config:
    import asyncio
    from gateway.config import load_config
    from gateway.logs import configure_logging
    from gateway.tracing import start_gateway_tracing
    from gateway.app import create_app
    loaded = load_config(config)
    configure_logging(json_logs=loaded.file.litellm_settings.json_logs, level="warning")
    start_gateway_tracing(loaded)
    phases.append(("load config", rss()))
    app = create_app(loaded, settle_heap=True)
    phases.append(("create_app", rss()))

    async def start_up():
        async with app.router.lifespan_context(app):
            phases.append(("lifespan start-up (settled heap)", rss()))
    asyncio.run(start_up())
print(json.dumps({
    "records": records,
    "phases": phases,
    "late": sorted({m.split(".")[0] for m in set(sys.modules) - imported}),
}))
"""

MB = 1024 * 1024


def measure(module: str, config: str | None) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, module, config or ""],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def package_table(records: dict[str, list[object]]) -> list[tuple[str, float, int, str]]:
    """(package, self MB, modules, first importer), largest first."""
    sizes: dict[str, float] = {}
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    for name, (_, own, parent) in records.items():  # insertion order = completion order
        top = name.split(".")[0]
        sizes[top] = sizes.get(top, 0.0) + float(own) / MB  # type: ignore[arg-type]
        counts[top] = counts.get(top, 0) + 1
        # the outermost module of this package that something outside the package imported
        if parent is None or str(parent).split(".")[0] != top:
            first[top] = f"{parent} -> {name}"
    return sorted(((p, sizes[p], counts[p], first.get(p, "?")) for p in sizes), key=lambda r: -r[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="module to import, e.g. gateway.app or middleware.app")
    parser.add_argument("--app", metavar="CONFIG", help="also build and start the gateway")
    parser.add_argument("--top", type=int, default=25, help="rows per table")
    parser.add_argument("--json", metavar="PATH", help="write the raw figures here")
    args = parser.parse_args(argv)
    result = measure(args.module, args.app)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    records: dict[str, list[object]] = result["records"]  # type: ignore[assignment]
    print("| phase | RSS MB | + MB |\n|---|---|---|")
    previous = None
    for label, size in result["phases"]:  # type: ignore[attr-defined]
        delta = "" if previous is None else f"{(size - previous) / MB:+.1f}"
        print(f"| {label} | {size / MB:.1f} | {delta} |")
        previous = size
    print("\n| package | self MB | modules | first imported by |\n|---|---|---|---|")
    for package, size, count, importer in package_table(records)[: args.top]:
        print(f"| {package} | {size:.1f} | {count} | {importer} |")
    print("\n| module | incl MB | self MB |\n|---|---|---|")
    ranked = sorted(records.items(), key=lambda item: -float(item[1][1]))  # type: ignore[arg-type]
    for name, (incl, own, _) in ranked[: args.top]:
        print(f"| {name} | {float(incl) / MB:.1f} | {float(own) / MB:.1f} |")  # type: ignore[arg-type]
    late = result.get("late")
    if late:
        print("\nimported during start-up:", ", ".join(late))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
