"""CPU time and resident memory of a process tree, read from /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def parse_stat_cpu_ticks(stat_line: str) -> int:
    """utime + stime (clock ticks) from a /proc/<pid>/stat line. The command name (field 2)
    may contain spaces and parentheses, so split after its last ')'."""
    rest = stat_line[stat_line.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(rest[11]) + int(rest[12])


def parse_statm_rss_bytes(statm: str) -> int:
    return int(statm.split()[1]) * PAGE_SIZE


def children(pid: int) -> list[int]:
    found: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    for task in task_dir.iterdir() if task_dir.exists() else []:
        kids = task / "children"
        if kids.exists():
            found += [int(p) for p in kids.read_text().split()]
    return found


def tree(pid: int) -> list[int]:
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        try:
            pending += children(current)
        except OSError:
            continue
    return pids


@dataclass(frozen=True)
class Sample:
    cpu_seconds: float
    rss_bytes: int


def sample(pid: int) -> Sample:
    """CPU seconds (user+system) and RSS summed over `pid` and its descendants."""
    ticks, rss = 0, 0
    for member in tree(pid):
        try:
            ticks += parse_stat_cpu_ticks(Path(f"/proc/{member}/stat").read_text())
            rss += parse_statm_rss_bytes(Path(f"/proc/{member}/statm").read_text())
        except (OSError, ValueError):
            continue  # exited between listing and reading
    return Sample(cpu_seconds=ticks / CLOCK_TICKS, rss_bytes=rss)


def scheduled_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and its descendants from the scheduler's own clock: the first
    field of each live thread's `/proc/<pid>/task/<tid>/schedstat`, in nanoseconds. utime
    and stime in `stat` are sampled at the clock tick (10 ms) and charged whole to whoever is
    running then; this is exact, but a thread that has exited is no longer counted."""
    nanos = 0
    for member in tree(pid):
        task_dir = Path(f"/proc/{member}/task")
        try:
            tasks = list(task_dir.iterdir())
        except OSError:
            continue  # exited between listing and reading
        for task in tasks:
            try:
                nanos += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return nanos / 1e9
