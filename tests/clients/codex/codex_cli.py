"""The real Codex CLI, installed from tests/clients/codex/package-lock.json into `.cache/codex/`
(re-installed when the lock file changes), and run as `codex exec` against a custom provider.

The npm package `@openai/codex` is a small launcher; the native binary comes from the
platform package npm picks for this machine (`@openai/codex-linux-x64`, an alias of
`@openai/codex@<version>-linux-x64`), so `npm ci` is the whole install.

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
INSTALL_DIR = REPO_ROOT / ".cache" / "codex"
LOCK_FILE = HERE / "package-lock.json"
STAMP = "toolrelay-lock.sha256"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 120
# Any traffic that is not to 127.0.0.1 goes to this proxy, where nothing listens, and fails.
DEAD_PROXY = "http://127.0.0.1:9"


def ensure_codex(install_dir: Path = INSTALL_DIR) -> Path:
    """The `codex` executable, installing it first when the cached copy is stale."""
    executable = install_dir / "node_modules" / ".bin" / "codex"
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
    require_component(installed, f"Codex CLI from npm (tests/clients/codex): {output}")
    stamp.write_text(wanted + "\n")  # written last: an interrupted install is redone
    return executable


def provider_config(base_url: str, model: str, key_env: str) -> str:
    """A config.toml that points Codex at `base_url` (the middleware) as a custom Responses
    provider, runs without approval prompts, and turns off what would call home. No sandbox:
    the only shell command is the one the test's scripted model asks for, and Codex's sandbox
    needs user namespaces, which a CI container may not grant."""
    return f"""\
model = "{model}"
model_provider = "toolrelay"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.toolrelay]
name = "toolrelay middleware"
base_url = "{base_url}"
env_key = "{key_env}"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


@dataclass(frozen=True)
class CodexRun:
    returncode: int
    events: list[dict[str, object]]  # `--json` events, one per stdout line
    last_message: str  # what `--output-last-message` wrote
    stderr: str

    def completed_items(self, kind: str) -> list[dict[str, object]]:
        items = [e.get("item") for e in self.events if e.get("type") == "item.completed"]
        return [i for i in items if isinstance(i, dict) and i.get("type") == kind]


def run_codex(
    executable: Path,
    prompt: str,
    *,
    base_url: str,
    key: str,
    model: str,
    workdir: Path,
    home: Path,
) -> CodexRun:
    """`codex exec --json PROMPT` with a fresh CODEX_HOME whose config.toml names the provider.
    The key travels in an environment variable, as Codex's `env_key` expects."""
    codex_home = home / "codex-home"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(provider_config(base_url, model, "TOOLRELAY_API_KEY"))
    last_message = home / "last-message.txt"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),
        "TOOLRELAY_API_KEY": key,
        "HTTPS_PROXY": DEAD_PROXY,
        "HTTP_PROXY": DEAD_PROXY,
        "ALL_PROXY": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1",
    }
    args = [
        str(executable),
        "exec",
        "--json",
        "--skip-git-repo-check",
        "--ephemeral",
        "--color",
        "never",
        "--output-last-message",
        str(last_message),
        prompt,
    ]
    done = subprocess.run(
        args,
        env=env,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    events = []
    for line in done.stdout.splitlines():
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    text = last_message.read_text() if last_message.exists() else ""
    return CodexRun(done.returncode, events, text, done.stderr[-4000:])
