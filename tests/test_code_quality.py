"""`scripts/check` (ruff + mypy) is part of the suite, so CI fails on lint or type errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_scripts_check_passes() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "check")], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"scripts/check failed:\n{result.stdout}\n{result.stderr}"
