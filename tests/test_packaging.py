"""The wheel ships the four services and nothing that exists only for tests or benchmarks."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PACKAGES = {"gateway", "middleware", "mcp_servers", "toolrelay", "common"}


def _build_wheel(out_dir: Path) -> Path:
    uv = shutil.which("uv")
    assert uv, "uv is needed to build the wheel (scripts/bootstrap installs it)"
    result = subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out_dir), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"uv build failed:\n{result.stdout}\n{result.stderr}"
    (wheel,) = out_dir.glob("toolrelay-*.whl")
    return wheel


def test_wheel_holds_the_services_and_no_test_double(tmp_path: Path) -> None:
    names = zipfile.ZipFile(_build_wheel(tmp_path)).namelist()
    top_levels = {name.split("/", 1)[0] for name in names if not name.startswith("toolrelay-")}
    assert top_levels == SHIPPED_PACKAGES
    assert not [name for name in names if "fake_upstream" in name or name.startswith("testing/")]
    # the migrations ship with the gateway (they are not Python imports)
    assert any(name.startswith("gateway/store/migrations/versions/") for name in names)
