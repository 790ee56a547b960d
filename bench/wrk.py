"""Saturation throughput with `wrk` (closed loop: each connection sends as fast as replies come)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_TEMPLATE = """-- POST one JSON body on every request (written by bench/wrk.py)
local f = assert(io.open("{body_path}", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
"""

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    non_2xx: int
    socket_errors: int

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def lua_script(body_path: Path, key: str) -> str:
    path = str(body_path).replace("\\", "\\\\").replace('"', '\\"')
    return LUA_TEMPLATE.format(body_path=path, key=key)


def parse_output(text: str) -> WrkResult:
    """Read wrk's summary: 'N requests in Xs', 'Requests/sec:', error lines."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if total is None or rps is None:
        raise ValueError(f"unrecognised wrk output: {text[-300:]!r}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return WrkResult(
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _UNITS[total.group(3)],
        requests_per_second=float(rps.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def run_wrk(
    url: str, script: Path, *, seconds: float, connections: int, core: int | None
) -> WrkResult:
    argv = [
        "wrk",
        "-t1",
        "--timeout",
        "10s",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "-s",
        str(script),
    ]
    if core is not None:
        argv = ["taskset", "-c", str(core), *argv]
    done = subprocess.run([*argv, url], capture_output=True, text=True, check=True)
    return parse_output(done.stdout)
