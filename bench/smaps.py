"""Where a process's resident memory is, by kind of mapping, from /proc/<pid>/smaps.

    uv run python bench/smaps.py PID [PID ...]

Kinds (anonymous mappings are told apart by their shape, which glibc and the kernel fix):
    heap          `[heap]`: the main malloc arena (brk), where the event-loop thread's small
                  allocations go
    malloc-arena  glibc's per-thread arenas: reserved 64 MiB-aligned (HEAP_MAX_SIZE), the
                  used part read-write from the aligned start, the rest PROT_NONE after it
    thread-stack  a read-write mapping right above a one-page PROT_NONE guard (pthread stacks)
    anon-other    any other anonymous memory: CPython's 1 MiB obmalloc arenas, malloc's mmaps
                  of large blocks (>= the mmap threshold), uvloop's and other native buffers
    stack         `[stack]`, the main thread's
    file          mapped files: code and data of libraries and extensions, SQLite's `-shm`
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

ARENA_ALIGN = 64 * 1024 * 1024  # glibc HEAP_MAX_SIZE on 64-bit
KINDS = ("heap", "malloc-arena", "thread-stack", "anon-other", "stack", "file")


@dataclass
class _Mapping:
    start: int
    end: int
    perms: str
    path: str
    rss_kb: int = 0

    @property
    def anonymous(self) -> bool:
        return self.path == ""


@dataclass(frozen=True)
class Breakdown:
    rss_kb: dict[str, int] = field(default_factory=dict)  # kind -> resident KiB
    arenas: int = 0  # glibc heaps (an arena can hold more than one)
    threads: int = 0

    def mb(self) -> dict[str, float]:
        return {kind: round(self.rss_kb.get(kind, 0) / 1024, 2) for kind in KINDS}


def parse(text: str) -> list[_Mapping]:
    mappings: list[_Mapping] = []
    for line in text.splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and not head[0].endswith(":"):
            start, end = (int(x, 16) for x in head[0].split("-"))
            mappings.append(_Mapping(start, end, head[1], head[5] if len(head) > 5 else ""))
        elif head and head[0] == "Rss:" and mappings:
            mappings[-1].rss_kb = int(head[1])
    return mappings


def _kind(mappings: list[_Mapping], i: int) -> str:
    m = mappings[i]
    if m.path == "[heap]":
        return "heap"
    if m.path == "[stack]":
        return "stack"
    if not m.anonymous:
        return "file"
    before = mappings[i - 1] if i > 0 else None
    after = mappings[i + 1] if i + 1 < len(mappings) else None
    if (
        m.start % ARENA_ALIGN == 0
        and m.perms.startswith("rw")
        and (
            m.end - m.start == ARENA_ALIGN
            or (after is not None and after.start == m.end and after.perms.startswith("---"))
        )
    ):
        return "malloc-arena"
    if (
        m.perms.startswith("rw")
        and before is not None
        and before.anonymous
        and before.end == m.start
        and before.perms.startswith("---")
        and before.end - before.start == 4096
    ):
        return "thread-stack"
    return "anon-other"


def breakdown_of(text: str, threads: int = 0) -> Breakdown:
    mappings = parse(text)
    rss: dict[str, int] = dict.fromkeys(KINDS, 0)
    arenas = 0
    for i, mapping in enumerate(mappings):
        kind = _kind(mappings, i)
        rss[kind] += mapping.rss_kb
        arenas += kind == "malloc-arena"
    return Breakdown(rss, arenas, threads)


def breakdown(pid: int) -> Breakdown:
    text = Path(f"/proc/{pid}/smaps").read_text()
    threads = len(list(Path(f"/proc/{pid}/task").iterdir()))
    return breakdown_of(text, threads)


def thread_names(pid: int) -> dict[str, int]:
    """Thread name (comm) -> how many threads have it."""
    names: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        names[name] = names.get(name, 0) + 1
    return names


def main(argv: list[str]) -> int:
    for pid in (int(a) for a in argv):
        found = breakdown(pid)
        parts = ", ".join(f"{k} {v:.1f}" for k, v in found.mb().items())
        print(f"{pid}: MB {parts}; {found.arenas} arena heaps, {found.threads} threads")
        print(f"  threads: {thread_names(pid)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
