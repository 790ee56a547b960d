"""The Dockerfile checked statically (no container engine runs here, so it is not built in
tests): every COPY source exists, every target compose builds exists, every final stage runs
as the non-root user, and the `node` target carries Node.js and npm for the bridge."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FROM = re.compile(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$", re.IGNORECASE)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, keyword: str) -> str | None:
        values = [arg for kw, arg in self.instructions if kw == keyword]
        return values[-1] if values else None


def stages() -> list[Stage]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    parsed: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = FROM.match(line)
        if match:
            parsed.append(Stage(match.group(1), match.group(2)))
            continue
        keyword, _, argument = line.partition(" ")
        parsed[-1].instructions.append((keyword.upper(), argument.strip()))
    return parsed


def by_name() -> dict[str, Stage]:
    return {stage.name: stage for stage in stages() if stage.name}


def user_of(stage: Stage) -> str | None:
    """The USER in force at the end of a stage, following `FROM <stage>` chains."""
    named = by_name()
    user = stage.last("USER")
    while user is None and stage.base in named:
        stage = named[stage.base]
        user = stage.last("USER")
    return user


def test_every_copy_source_exists() -> None:
    for stage in stages():
        for keyword, argument in stage.instructions:
            if keyword != "COPY" or argument.startswith("--from"):
                continue
            *sources, _destination = shlex.split(argument)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file"


def test_compose_targets_exist_and_every_target_runs_unprivileged() -> None:
    named = by_name()
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    targets = {
        service["build"]["target"]
        for service in compose["services"].values()
        if isinstance(service.get("build"), dict) and "target" in service["build"]
    }
    assert targets == {"browser", "node"}
    assert targets <= set(named)
    for name in ("runtime", *sorted(targets)):
        assert user_of(named[name]) == "toolrelay", name
    runtime = named["runtime"]
    assert any("--uid 10001" in arg for kw, arg in runtime.instructions if kw == "RUN")


def test_node_target_installs_node_and_keeps_npm_cache_writable() -> None:
    node = by_name()["node"]
    assert node.base == "runtime"
    installs = " ".join(arg for kw, arg in node.instructions if kw == "RUN")
    assert "apt-get install" in installs and "nodejs" in installs and " npm" in installs
    environment = " ".join(arg for kw, arg in node.instructions if kw == "ENV")
    assert "npm_config_cache=/data/.npm" in environment
    # /data is TOOLRELAY_HOME, one of the two writable paths with a read-only root.
    assert "TOOLRELAY_HOME=/data" in " ".join(
        arg for kw, arg in by_name()["runtime"].instructions if kw == "ENV"
    )
    assert "npx" in (node.last("CMD") or "")


def test_compose_services_run_with_a_read_only_root() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        if service.get("image", "").startswith("toolrelay"):
            assert service.get("read_only") is True, name
            assert set(service.get("tmpfs", [])) >= {"/tmp", "/data"}, name
