"""LiteLLM in its own virtual environment under `.cache/` (so it never touches our lockfile).

Created with `uv venv` + `uv pip install` on first use and reused afterwards; a marker file
records the installed requirement so a version bump reinstalls.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

LITELLM_REQUIREMENT = "litellm[proxy]==1.106.2"
PYTHON_VERSION = "3.11"


def venv_dir(repo: Path) -> Path:
    return repo / ".cache" / "litellm-venv"


def ensure_litellm(repo: Path) -> Path:
    """Returns the venv's python, installing LiteLLM first if needed."""
    cache = repo / ".cache"
    cache.mkdir(exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # the cache is never committed
    venv = venv_dir(repo)
    python = venv / "bin" / "python"
    marker = venv / ".bench-requirement"
    if python.exists() and marker.exists() and marker.read_text() == LITELLM_REQUIREMENT:
        return python
    if not python.exists():
        subprocess.run(["uv", "venv", "-q", "-p", PYTHON_VERSION, str(venv)], check=True)
    subprocess.run(
        ["uv", "pip", "install", "-q", "-p", str(python), LITELLM_REQUIREMENT], check=True
    )
    marker.write_text(LITELLM_REQUIREMENT)
    return python
