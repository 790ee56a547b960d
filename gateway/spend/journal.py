"""The local spend journal: every row queued in memory is first appended here, so a replica
killed before its batch reached the database loses nothing.

Each append is one `write()` of a JSON line, with no fsync: the bytes are in the kernel's page
cache when the request returns, which survives the process being killed (SIGKILL, OOM) but not
the machine losing power. The writer seals the current file before it writes a batch and
discards sealed files once every row queued before the seal is in the database (or in the
fsynced spill file). At start, whatever files are left (a crash) are folded into the spill
file, which is replayed idempotently: rows carry their id, so a row already written is skipped.

Each process has its own file (`spend-journal-<pid>.jsonl`), so `--workers N` share a data dir
safely: recovery only takes the files of processes that are no longer running.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson
import structlog

from gateway.spend.rows import Row

log = structlog.get_logger("toolrelay.spend")
PREFIX = "spend-journal-"


def journal_for(data_dir: Path) -> SpendJournal:
    return SpendJournal(data_dir / f"{PREFIX}{os.getpid()}.jsonl")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(path: Path) -> int | None:
    digits = path.name.removeprefix(PREFIX).split(".", 1)[0]
    return int(digits) if digits.isdigit() else None


@dataclass
class SpendJournal:
    path: Path
    appended: int = 0
    _handle: BinaryIO | None = None
    _sealed: list[Path] = field(default_factory=list)
    _sequence: int = 0

    def append(self, row: Row) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("ab", buffering=0)
        # orjson writes an aware datetime as `isoformat()` does, which `from_json_ready` reads
        self._handle.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
        self.appended += 1

    def seal(self) -> None:
        """Close the current file; rows appended from now on go to a fresh one."""
        if self._handle is None:
            return
        self._handle.close()
        self._handle = None
        self._sequence += 1
        sealed = self.path.with_name(f"{self.path.name}.{self._sequence}.sealed")
        self.path.replace(sealed)
        self._sealed.append(sealed)

    def discard_sealed(self) -> None:
        """Every row of the sealed files is stored: they are no longer needed."""
        for sealed in self._sealed:
            sealed.unlink(missing_ok=True)
        self._sealed.clear()

    def discard_all(self) -> None:
        self.seal()
        self.discard_sealed()

    def recover_into(self, spill_path: Path) -> int:
        """Fold a previous run's journal files into the spill file (fsynced); returns the
        number of rows recovered."""
        leftovers = []
        for path in sorted(self.path.parent.glob(f"{PREFIX}*")):
            owner = _owner(path)
            if owner is None or not path.is_file():
                continue
            if owner != os.getpid() and pid_alive(owner):
                continue  # another worker's live journal
            leftovers.append(path)
        if not leftovers:
            return 0
        data = b"".join(p.read_bytes() for p in leftovers)
        lines = [line for line in data.splitlines() if _complete(line)]
        spill_path.parent.mkdir(parents=True, exist_ok=True)
        with spill_path.open("ab") as handle:
            handle.write(b"".join(line + b"\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
        for leftover in leftovers:
            leftover.unlink()
        log.warning(
            "spend journal from an earlier run recovered; its rows are replayed (rows already "
            "in the database are skipped)",
            rows=len(lines),
        )
        return len(lines)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __del__(self) -> None:
        # A gateway that never ran its shutdown (an app built in process and dropped) must
        # not leave an open file behind; every row already written stays in the file.
        self.close()


def _complete(line: bytes) -> bool:
    """A kill mid-write can leave a torn last line: it never got its 200, so it is dropped."""
    if not line.strip():
        return False
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        log.warning("torn spend journal line dropped (the process died while writing it)")
        return False
    return True
