"""bench/smaps.py: resident memory by kind of mapping."""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path

from bench.smaps import breakdown, breakdown_of, parse

MIB = 1024 * 1024


def _mapping(start: int, size: int, perms: str, path: str, rss_kb: int) -> str:
    head = f"{start:x}-{start + size:x} {perms} 00000000 00:00 0"
    return f"{head}                          {path}\nSize: {size // 1024} kB\nRss: {rss_kb} kB\n"


SMAPS = "".join(
    [
        _mapping(0x55D000000000, 4 * MIB, "rw-p", "[heap]", 3000),
        # a glibc thread arena: 2 MiB used from a 64 MiB-aligned start, the rest reserved
        _mapping(0x7F5040000000, 2 * MIB, "rw-p", "", 1500),
        _mapping(0x7F5040200000, 62 * MIB, "---p", "", 0),
        # a full arena heap: all 64 MiB read-write
        _mapping(0x7F5044000000, 64 * MIB, "rw-p", "", 900),
        # a pthread stack: one guard page below
        _mapping(0x7F5050000000, 4096, "---p", "", 0),
        _mapping(0x7F5050001000, 8 * MIB, "rw-p", "", 40),
        # CPython's obmalloc arena, not aligned
        _mapping(0x7F5060100000, MIB, "rw-p", "", 700),
        _mapping(0x7F5070000000, 2 * MIB, "r-xp", "/usr/lib/libsqlite3.so.0", 1200),
        _mapping(0x7FFC00000000, 132 * 1024, "rw-p", "[stack]", 60),
    ]
)


def test_the_kinds_are_told_apart_by_the_mappings_shape() -> None:
    found = breakdown_of(SMAPS, threads=3)
    assert found.rss_kb == {
        "heap": 3000,
        "malloc-arena": 2400,
        "thread-stack": 40,
        "anon-other": 700,
        "stack": 60,
        "file": 1200,
    }
    assert found.arenas == 2
    assert found.threads == 3
    assert sum(found.rss_kb.values()) == sum(m.rss_kb for m in parse(SMAPS))


def test_a_thread_that_mallocs_gets_an_arena_in_a_live_process() -> None:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    ready, done = threading.Event(), threading.Event()
    blocks: list[int] = []

    def allocate() -> None:
        # 100 blocks of 64 KiB: below the mmap threshold, so in this thread's arena
        blocks.extend(libc.malloc(64 * 1024) for _ in range(100))
        for block in blocks:
            ctypes.memset(block, 1, 64 * 1024)
        ready.set()
        done.wait(timeout=30)
        for block in blocks:
            libc.free(block)

    thread = threading.Thread(target=allocate)
    thread.start()
    try:
        assert ready.wait(timeout=30)
        found = breakdown(os.getpid())
        assert found.arenas >= 1
        assert found.rss_kb["malloc-arena"] >= 6 * 1024
        assert found.threads == len(list(Path(f"/proc/{os.getpid()}/task").iterdir()))
    finally:
        done.set()
        thread.join()
