"""The real Open WebUI in its own virtual environment, cached under `.cache/open-webui-venv`.

It is never installed into the project venv: it pins hundreds of packages of its own. The
venv is rebuilt only when the requirements files change (a stamp holds their hash), so a
rerun costs nothing here. Installation is two pip runs: the CPU build of torch first, then
Open WebUI constrained to that torch.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
VENV_DIR = REPO_ROOT / ".cache" / "open-webui-venv"
TORCH_REQUIREMENTS = HERE / "requirements-torch-cpu.txt"
OPEN_WEBUI_REQUIREMENTS = HERE / "requirements-open-webui.txt"
STAMP_NAME = "toolrelay-requirements.sha256"
INSTALL_TIMEOUT = 1800.0


class OpenWebUIInstallError(RuntimeError):
    """pip could not build the Open WebUI venv; the message carries the tail of its log."""


def requirements_hash() -> str:
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}\n".encode())
    for path in (TORCH_REQUIREMENTS, OPEN_WEBUI_REQUIREMENTS):
        digest.update(path.name.encode() + b"\n" + path.read_bytes())
    return digest.hexdigest()


def ensure_open_webui(venv_dir: Path = VENV_DIR) -> Path:
    """Return the venv's `open-webui` executable, installing it first if the stamp is stale."""
    executable = venv_dir / "bin" / "open-webui"
    stamp = venv_dir / STAMP_NAME
    wanted = requirements_hash()
    if executable.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return executable
    if venv_dir.exists():
        shutil.rmtree(venv_dir)
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    log_path = venv_dir.parent / "open-webui-install.log"
    with log_path.open("w") as log:
        _run([sys.executable, "-m", "venv", str(venv_dir)], log, log_path)
        pip = [str(venv_dir / "bin" / "python"), "-m", "pip", "install", "--progress-bar", "off"]
        _run([*pip, "-r", str(TORCH_REQUIREMENTS)], log, log_path)
        _run([*pip, "-r", str(OPEN_WEBUI_REQUIREMENTS)], log, log_path)
    if not executable.exists():
        raise OpenWebUIInstallError(f"pip finished but {executable} is missing; see {log_path}")
    # Written last: an interrupted install leaves no stamp and is redone next time.
    stamp.write_text(wanted + "\n")
    return executable


def _run(command: list[str], log: IO[str], log_path: Path) -> None:
    result = subprocess.run(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=HERE,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
        raise OpenWebUIInstallError(
            f"{' '.join(command)} exited with {result.returncode}; last lines of {log_path}:\n{tail}"
        )


if __name__ == "__main__":
    print(ensure_open_webui())
