"""The real Claude Code CLI, installed from tests/clients/claude_code/package-lock.json into
`.cache/claude-code/` (re-installed when the lock file changes), and run as `claude -p`.

Outside CI a failed install skips the tests that need it, with npm's output as the reason; with
CI=true it fails them, since the npm registry is reachable there and a skip would hide breakage.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson

from tests.support.components import require_component

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
INSTALL_DIR = REPO_ROOT / ".cache" / "claude-code"
LOCK_FILE = HERE / "package-lock.json"
STAMP = "toolrelay-lock.sha256"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 120


def ensure_claude_code(install_dir: Path = INSTALL_DIR) -> Path:
    """The `claude` executable, installing it first when the cached copy is stale."""
    executable = install_dir / "node_modules" / ".bin" / "claude"
    stamp = install_dir / STAMP
    wanted = hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()
    if executable.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return executable
    try:
        done = subprocess.run(
            [str(HERE / "install.sh"), str(install_dir)],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
        output = (done.stdout + done.stderr)[-2000:]
        installed = done.returncode == 0 and executable.exists()
    except (OSError, subprocess.TimeoutExpired) as exc:
        output, installed = str(exc), False
    require_component(installed, f"Claude Code from npm (tests/clients/claude_code): {output}")
    stamp.write_text(wanted + "\n")  # written last: an interrupted install is redone
    return executable


@dataclass(frozen=True)
class ClaudeRun:
    returncode: int
    result: dict[str, object]  # the `--output-format json` result object
    stderr: str


def run_claude(
    executable: Path,
    prompt: str,
    *,
    base_url: str,
    token: str,
    model: str,
    workdir: Path,
    home: Path,
    allowed_tools: tuple[str, ...] = (),
) -> ClaudeRun:
    """`claude -p PROMPT` against the gateway, with every kind of traffic other than the model
    API turned off (telemetry, auto-update, error reports, nonessential calls)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_AUTH_TOKEN": token,
        "ANTHROPIC_MODEL": model,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": model,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_BUG_COMMAND": "1",
    }
    args = [str(executable), "-p", prompt, "--output-format", "json"]
    if allowed_tools:
        args += ["--allowedTools", ",".join(allowed_tools)]
    done = subprocess.run(
        args,
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    try:
        result = orjson.loads(done.stdout)
    except orjson.JSONDecodeError:
        result = {"unparsed_stdout": done.stdout[-2000:]}
    return ClaudeRun(done.returncode, result, done.stderr[-4000:])
