"""The certified `oidc-provider` (npm) in a node process on loopback, set up like a Keycloak
realm by testing/oidc_provider/server.mjs. Its packages are installed from the npm registry
with `npm ci` (the lockfile is checked in) the first time a test needs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.components import require_component
from tests.support.processes import stop_process, wait_until_healthy

PROJECT = Path(__file__).resolve().parents[2] / "testing" / "oidc_provider"


def install() -> None:
    """`npm ci` once per checkout (node_modules is not committed)."""
    require_component(shutil.which("node") is not None, "node (for oidc-provider)")
    npm = shutil.which("npm")
    require_component(npm is not None, "npm (for oidc-provider)")
    if (PROJECT / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    assert npm is not None
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"


@dataclass
class OidcProvider:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)


def start_provider(port: int, log_dir: Path, config: dict[str, Any]) -> OidcProvider:
    install()
    node = shutil.which("node")
    assert node is not None
    log_path = log_dir / f"oidc-provider-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [node, "server.mjs"],
            cwd=PROJECT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "OIDC_TEST_CONFIG": json.dumps({**config, "port": port})},
            start_new_session=True,
        )
    provider = OidcProvider(process=process, port=port, log_path=log_path)
    try:
        wait_until_healthy(f"{provider.issuer}/.well-known/openid-configuration", process)
    except BaseException:
        provider.stop()
        raise RuntimeError(f"oidc-provider failed to start; log:\n{provider.log()}") from None
    return provider
