"""The request mix of bench/memory_growth.py, and the Lua script that sends it."""

from __future__ import annotations

from pathlib import Path

import orjson

from bench.memory_growth import mix, write_mix_script
from bench.services import MASTER_KEY


def test_the_mix_has_the_issues_shares_of_errors_streams_and_sizes() -> None:
    bodies = mix()
    errors = [b for b in bodies if b["model"].startswith("error-")]
    streamed = [b for b in bodies if b.get("stream")]
    assert len(errors) / len(bodies) == 0.05
    assert len(streamed) / len(bodies) == 0.10
    assert not any(b["model"].startswith("error-") for b in streamed)
    whole = [b["model"] for b in bodies if not b.get("stream") and b not in errors]
    assert {"size-200", "size-10000"} == set(whole)
    sizes = {len(orjson.dumps(b)) for b in bodies}
    assert min(sizes) < 200 and max(sizes) > 10_000


def test_the_script_cycles_through_every_body(tmp_path: Path) -> None:
    script = write_mix_script(tmp_path).read_text()
    assert script.count("mix-") == len(mix())
    assert f"Bearer {MASTER_KEY}" in script
    assert "(n - 1) % #requests + 1" in script
    first = orjson.loads((tmp_path / "mix-00.json").read_bytes())
    assert first == mix()[0]
