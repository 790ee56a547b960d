"""Service output for `toolrelay up` and `toolrelay logs`.

`up` copies each service's output, line by line, to its own terminal (as before) and to
`$TOOLRELAY_HOME/logs/NAME.log`; `toolrelay logs` reads those files, shows JSON log lines as
readable text, filters by level and service, and follows new lines until Ctrl-C.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
POLL_SECONDS = 0.2


def logs_dir(home: Path) -> Path:
    return home / "logs"


def copy_output(process: subprocess.Popen[bytes], path: Path, echo: IO[bytes]) -> threading.Thread:
    """Copy `process`'s stdout to `echo` and append it to `path`, in a daemon thread."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def pump() -> None:
        assert process.stdout is not None
        showing = True
        with path.open("ab") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                if showing:
                    try:
                        echo.write(line)
                        echo.flush()
                    except (OSError, ValueError):
                        # Nobody reads our terminal any more; keep draining into the file so
                        # the service never blocks on a full pipe.
                        showing = False

    thread = threading.Thread(target=pump, name=f"log-{path.stem}", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True)
class LogLine:
    service: str
    level: str
    text: str
    fields: dict[str, Any]


def parse(service: str, raw: str) -> LogLine:
    try:
        record = json.loads(raw)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return LogLine(service, "info", raw.rstrip("\n"), {})
    level = str(record.get("level", "info")).lower()
    event = str(record.get("event", ""))
    stamp = str(record.get("timestamp", ""))[11:19]
    extras = {k: v for k, v in record.items() if k not in {"level", "event", "timestamp"}}
    shown = " ".join(f"{k}={_value(v)}" for k, v in extras.items())
    return LogLine(
        service, level, f"{stamp} {service:<10} {level.upper():<7} {event} {shown}".rstrip(), record
    )


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if "\n" not in text else "\n" + text


def read_lines(home: Path, services: list[str] | None, *, follow: bool) -> Iterator[LogLine]:
    """Every line so far, oldest file first; with `follow`, then new lines as they come."""
    folder = logs_dir(home)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no logs (are the services started by `toolrelay up`?)")
    files = sorted(p for p in folder.glob("*.log") if services is None or p.stem in services)
    if not files:
        raise FileNotFoundError(
            f"{folder}: no log files for {', '.join(services or ['any service'])}"
        )
    handles = [(p.stem, p.open("r", encoding="utf-8", errors="replace")) for p in files]
    try:
        for name, handle in handles:
            for raw in handle:
                yield parse(name, raw)
        while follow:
            quiet = True
            for name, handle in handles:
                raw = handle.readline()
                while raw:
                    quiet = False
                    yield parse(name, raw)
                    raw = handle.readline()
            if quiet:
                time.sleep(POLL_SECONDS)
    finally:
        for _, handle in handles:
            handle.close()


def show(home: Path, *, level: str, services: list[str] | None, follow: bool, as_json: bool) -> int:
    floor = LEVELS[level]
    try:
        for line in read_lines(home, services, follow=follow):
            if LEVELS.get(line.level, 20) < floor:
                continue
            if as_json:
                sys.stdout.write(
                    json.dumps({"service": line.service, **(line.fields or {"text": line.text})})
                    + "\n"
                )
            else:
                sys.stdout.write(line.text + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        return 0
    return 0
