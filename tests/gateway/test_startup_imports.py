"""What a gateway imports to start, measured in a fresh interpreter: packages that only some
configurations use stay out of the others' memory (bench/import_rss.py has the sizes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.components import REDIS_URL

# Builds the app as `toolrelay gateway` does, runs its start-up and shutdown, and prints
# which of the given top-level packages were imported.
START_AND_REPORT = """
import asyncio, json, sys
from gateway.app import create_app
from gateway.config import load_config

app = create_app(load_config(sys.argv[1]), access_log=False)

async def start_and_stop():
    async with app.router.lifespan_context(app):
        pass

asyncio.run(start_and_stop())
print(json.dumps(sorted(p for p in sys.argv[2:] if p in sys.modules)))
"""


def imported_at_start(config: dict[str, object], tmp_path: Path, *packages: str) -> set[str]:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {
        "TOOLRELAY_HOME": str(tmp_path / "home"),
        "TOOLRELAY_ROUTER_NAMESPACE": f"test-startup-imports:{tmp_path.name}",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", START_AND_REPORT, str(path), *packages],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


CONFIG: dict[str, object] = {
    "model_list": [
        {
            "model_name": "m",
            "litellm_params": {"model": "openai/m", "api_base": "http://127.0.0.1:9/v1"},
        }
    ],
    "general_settings": {"master_key": "sk-master"},
}


def test_a_gateway_without_redis_never_imports_redis(tmp_path: Path) -> None:
    assert imported_at_start(CONFIG, tmp_path, "redis") == set()


def test_packages_for_other_configurations_stay_out(tmp_path: Path) -> None:
    """PyJWT/cryptography (JWT auth, SSO, stored models), the Bedrock and Vertex SDKs (their
    deployments), tiktoken (token counting) and the PostgreSQL dialect (a SQLite store)."""
    optional = ("jwt", "cryptography", "botocore", "google.auth", "tiktoken")
    dialect = "sqlalchemy.dialects.postgresql"  # Alembic loads it: see the second start
    assert imported_at_start(CONFIG, tmp_path, *optional) == set()
    assert imported_at_start(CONFIG, tmp_path, *optional, dialect) == set()


def test_a_bedrock_deployment_loads_its_provider_at_start(tmp_path: Path) -> None:
    """Its settings are checked at start, which takes the provider's module (botocore)."""
    bedrock = {
        "model_name": "b",
        "litellm_params": {"model": "bedrock/anthropic.claude-3-haiku", "aws_region_name": "x"},
    }
    config = {**CONFIG, "model_list": [*CONFIG["model_list"], bedrock]}  # type: ignore[misc]
    assert imported_at_start(config, tmp_path, "botocore", "google.auth") == {"botocore"}


def test_a_gateway_with_redis_imports_it(tmp_path: Path) -> None:
    """The other side of the test above: the lazy import is reached when Redis is set."""
    with_redis = {**CONFIG, "router_settings": {"redis_url": REDIS_URL}}
    assert imported_at_start(with_redis, tmp_path, "redis") == {"redis"}


def test_alembic_runs_only_when_the_schema_is_behind(tmp_path: Path) -> None:
    assert imported_at_start(CONFIG, tmp_path, "alembic") == {"alembic"}  # a new store
    assert imported_at_start(CONFIG, tmp_path, "alembic") == set()  # already at head
