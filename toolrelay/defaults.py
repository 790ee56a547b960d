"""Embedded defaults for `toolrelay up`: models from whatever provider keys are present."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# (env var, provider prefix, models offered when the key is present)
PROVIDER_KEYS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("OPENAI_API_KEY", "openai", ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini")),
)


@dataclass
class EmbeddedDefaults:
    config: dict[str, Any]
    available: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def home_dir(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    path = Path(explicit or env.get("TOOLRELAY_HOME") or Path.home() / ".toolrelay")
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_master_key(home: Path) -> str:
    """Generated once and kept, so restarting never invalidates a key a user has copied."""
    path = home / "master_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = "sk-" + secrets.token_urlsafe(24)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def embedded_defaults(environ: Mapping[str, str] | None = None) -> EmbeddedDefaults:
    env = os.environ if environ is None else environ
    model_list: list[dict[str, Any]] = []
    result = EmbeddedDefaults(config={})
    for variable, prefix, names in PROVIDER_KEYS:
        if not env.get(variable):
            result.missing.append(f"{prefix}: set {variable} to enable {', '.join(names)}")
            continue
        for name in names:
            params: dict[str, Any] = {
                "model": f"{prefix}/{name}",
                "api_key": f"os.environ/{variable}",
            }
            model_list.append({"model_name": name, "litellm_params": params})
            result.available.append(name)
    result.config = {"model_list": model_list}
    return result
