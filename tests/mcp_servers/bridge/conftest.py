"""Third-party stdio MCP servers for the bridge tests, installed on first use.

- `@modelcontextprotocol/server-everything`, pinned by package-lock.json, via `npm ci`
  into tests/mcp_servers/bridge/node_modules (gitignored).
- `mcp-server-fetch`, pinned by requirements-fetch.txt, via `uv venv` + `uv pip install`
  into <repo>/.cache/bridge-fetch-venv (uv writes a `*` .gitignore into the venv).

Each install is redone only when its lock file changes (a stamp holds the lock's hash).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.mcp_servers.support import Transport
from tests.support.components import require_component

HERE = Path(__file__).parent
REPO = HERE.parents[2]
EVERYTHING_JS = HERE / "node_modules/@modelcontextprotocol/server-everything/dist/index.js"
FETCH_VENV = REPO / ".cache" / "bridge-fetch-venv"


def _lock_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _installed(stamp: Path, lock: Path) -> bool:
    return stamp.is_file() and stamp.read_text() == _lock_hash(lock)


def _run(args: list[str], cwd: Path) -> None:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


@pytest.fixture(scope="session")
def everything_argv() -> list[str]:
    """argv that runs server-everything over stdio."""
    node, npm = shutil.which("node"), shutil.which("npm")
    require_component(node is not None and npm is not None, "node and npm (for server-everything)")
    assert node is not None and npm is not None
    lock = HERE / "package-lock.json"
    stamp = HERE / "node_modules" / ".toolrelay-installed"
    if not _installed(stamp, lock) or not EVERYTHING_JS.is_file():
        _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], HERE)
        stamp.write_text(_lock_hash(lock))
    return [node, str(EVERYTHING_JS), "stdio"]


@pytest.fixture(scope="session")
def fetch_argv() -> list[str]:
    """argv that runs the official mcp-server-fetch over stdio, from its own venv."""
    uv = shutil.which("uv")
    require_component(uv is not None, "uv (to build the mcp-server-fetch venv)")
    assert uv is not None
    lock = HERE / "requirements-fetch.txt"
    stamp = FETCH_VENV / ".toolrelay-installed"
    binary = FETCH_VENV / "bin" / "mcp-server-fetch"
    if not _installed(stamp, lock) or not binary.is_file():
        FETCH_VENV.parent.mkdir(exist_ok=True)
        # This interpreter, so uv never tries to download a Python.
        _run([uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(FETCH_VENV)], REPO)
        python = FETCH_VENV / "bin" / "python"
        _run([uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(lock)], REPO)
        stamp.write_text(_lock_hash(lock))
    return [str(binary)]


@asynccontextmanager
async def session_client(base_url: str, transport: Transport) -> AsyncIterator[Client]:
    """A handshake-era MCP session (the kind that gets its own child process)."""
    if transport == "sse":
        async with Client(sse_client(f"{base_url}/sse"), mode="legacy") as client:
            yield client
        return
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as http,
        Client(
            streamable_http_client(f"{base_url}/mcp", http_client=http), mode="legacy"
        ) as client,
    ):
        yield client


async def health(base_url: str) -> dict[str, object]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base_url}/healthz")
        response.raise_for_status()
        body: dict[str, object] = response.json()
        return body


async def children(base_url: str) -> list[int]:
    pids = (await health(base_url))["children"]
    assert isinstance(pids, list)
    return [int(pid) for pid in pids]


async def wait_gone(pids: list[int], within: float = 15.0) -> None:
    """Wait until none of `pids` is a live process."""
    with anyio.fail_after(within):
        while any(alive(pid) for pid in pids):  # noqa: ASYNC110 - nothing to wait on but /proc
            await anyio.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether `pid` is a live process (zombies count as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def descendants(pid: int) -> list[int]:
    """Every descendant of `pid` (Linux /proc)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            kids = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for kid in map(int, kids):
            found += [kid, *descendants(kid)]
    return found


def stdin_bytes_read(pid: int) -> int:
    """Bytes `pid` has read so far (rchar): grows when a request reaches the child."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError(f"no rchar for {pid}")
