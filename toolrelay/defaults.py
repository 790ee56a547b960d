"""Embedded defaults for `toolrelay up`: models from whatever provider keys are present,
the MCP servers this machine can run, and a master key kept across restarts."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mcp_servers.storage._settings import ENVIRONMENT as S3_ENVIRONMENT

# (env var, provider prefix, models offered when the key is present)
PROVIDER_KEYS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("OPENAI_API_KEY", "openai", ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini")),
    ("ANTHROPIC_API_KEY", "anthropic", ("claude-sonnet-4-5", "claude-haiku-4-5")),
    ("GEMINI_API_KEY", "gemini", ("gemini-2.5-pro", "gemini-2.5-flash")),
)
OLLAMA_URL = "http://127.0.0.1:11434"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

MCP_OFFSETS = {"postgres": 0, "fetch": 1, "browser": 2, "storage": 3}


@dataclass(frozen=True)
class Ports:
    gateway: int = 4000
    middleware: int = 4001
    mcp_base: int = 8110
    s3: int = 8333  # the embedded SeaweedFS; fixed because presigned links name it

    def mcp(self, name: str) -> int:
        return self.mcp_base + MCP_OFFSETS[name]

    def planned(self) -> frozenset[int]:
        """Every port `toolrelay up` will listen on."""
        return frozenset(
            {self.gateway, self.middleware, self.s3, *(self.mcp(n) for n in MCP_OFFSETS)}
        )


@dataclass
class EmbeddedDefaults:
    config: dict[str, Any]
    available: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mcp_servers: list[str] = field(default_factory=list)
    mcp_skipped: list[str] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)  # where postgres and S3 came from


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


def ollama_models(base_url: str = OLLAMA_URL, timeout: float = 0.5) -> list[str]:
    """Models of a local Ollama, or [] when none answers quickly."""
    try:
        response = httpx.get(f"{base_url}/api/tags", timeout=timeout)
        response.raise_for_status()
        models = response.json().get("models") or []
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    return [str(m["name"]) for m in models if isinstance(m, dict) and m.get("name")]


def chromium_path(environ: Mapping[str, str]) -> str | None:
    explicit = environ.get("TOOLRELAY_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def embedded_defaults(
    environ: Mapping[str, str] | None = None,
    *,
    host: str = "127.0.0.1",
    ports: Ports | None = None,
    ollama: list[str] | None = None,
    local_postgres: str | None = None,
) -> EmbeddedDefaults:
    """`local_postgres` is a DSN `toolrelay up` found answering (see local_postgres.py)."""
    ports = ports or Ports()
    env = os.environ if environ is None else environ
    result = EmbeddedDefaults(config={})
    model_list: list[dict[str, Any]] = []
    for variable, prefix, names in PROVIDER_KEYS:
        if not env.get(variable):
            result.missing.append(f"{prefix}: set {variable} to enable {', '.join(names)}")
            continue
        for name in names:
            params = {"model": f"{prefix}/{name}", "api_key": f"os.environ/{variable}"}
            model_list.append({"model_name": name, "litellm_params": params})
            result.available.append(name)
    local = ollama_models() if ollama is None else ollama
    if local:
        for name in local:
            model_list.append(
                {"model_name": name, "litellm_params": {"model": f"ollama_chat/{name}"}}
            )
            result.available.append(name)
    else:
        result.missing.append(f"ollama: none answering at {OLLAMA_URL}")

    mcp_servers: dict[str, Any] = {}
    server_settings: dict[str, Any] = {}
    result.mcp_servers.append("fetch")
    browser = chromium_path(env)
    if browser:
        result.mcp_servers.append("browser")
        server_settings["browser"] = {"executable_path": browser}
    else:
        result.mcp_skipped.append(
            "browser: no Chromium found (install it, or set TOOLRELAY_CHROMIUM)"
        )
    if env.get("MCP_POSTGRES_DSN"):
        result.mcp_servers.append("postgres")
        server_settings["postgres"] = {"dsn": "os.environ/MCP_POSTGRES_DSN"}
        result.chosen.append("postgres: MCP_POSTGRES_DSN")
    elif local_postgres:
        result.mcp_servers.append("postgres")
        server_settings["postgres"] = {"dsn": local_postgres}
        result.chosen.append(f"postgres: local PostgreSQL {local_postgres}")
    else:
        result.mcp_skipped.append(
            "postgres: no local PostgreSQL lets us in without a password on 127.0.0.1:5432;"
            " set MCP_POSTGRES_DSN to a PostgreSQL URL"
        )
    s3 = s3_variables(env)
    storage: dict[str, Any] = {"backend": "local"}
    if s3 is not None:
        result.mcp_servers.append("storage")
        # The storage server reads the top-level section below, shared with the artifacts.
        server_settings["storage"] = {}
        storage = {"backend": "s3", "bucket": "mcp-storage"}
        for setting, name in s3.items():
            # public_endpoint too: the artifacts' links and the server's point at one place
            storage[setting] = f"os.environ/{name}"
    else:
        result.mcp_skipped.append(
            "storage: no S3 store: install toolrelay[s3] (SeaweedFS) for an embedded one,"
            " or set S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY"
        )
    for name in result.mcp_servers:
        mcp_servers[name] = {"url": f"http://{host}:{ports.mcp(name)}/mcp", "transport": "http"}

    result.config = {
        "model_list": model_list,
        "middleware_settings": {"gateway_url": f"http://{host}:{ports.gateway}"},
        "mcp_servers": mcp_servers,
        "mcp_server_settings": server_settings,
        "storage": storage,
        "ui_settings": {"middleware_url": f"http://{host}:{ports.middleware}"},
    }
    return result


def s3_variables(environ: Mapping[str, str]) -> dict[str, str] | None:
    """For each S3 setting the environment carries, the variable that carries it; None
    when no endpoint is set (the spellings are the storage server's own)."""
    found = {
        setting: next(name for name in names if environ.get(name))
        for setting, names in S3_ENVIRONMENT
        if any(environ.get(name) for name in names)
    }
    return found if "endpoint" in found else None
