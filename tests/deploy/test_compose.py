"""compose.yaml validates with compose-go, every service has a health check, and the URLs
the services use to reach each other point at ports those services really listen on."""

from __future__ import annotations

import json
import re
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
IMAGE_PORTS = {
    "postgres": 5432,
    "redis": 6379,
    "seaweedfs": 8333,
    "open-webui": 8080,
    "traefik": 443,
    "keycloak": 8080,
}
PROFILES = ((), ("traefik",), ("keycloak",), ("npm-bridge",), ("traefik", "keycloak"))


def compose_file() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def project_copy(tmp_path: Path) -> Path:
    for name in ("compose.yaml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    return tmp_path


def compose_config(
    project: Path, profiles: tuple[str, ...] = (), *output: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(COMPOSE_BIN),
            "--project-directory",
            str(project),
            "-f",
            str(project / "compose.yaml"),
            *(arg for profile in profiles for arg in ("--profile", profile)),
            "config",
            *(output or ("-q",)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("profiles", PROFILES, ids=lambda p: "+".join(p) or "default")
def test_compose_go_validates_each_profile(tmp_path: Path, profiles: tuple[str, ...]) -> None:
    result = compose_config(project_copy(tmp_path), profiles)
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
    "secret",
    [
        "LITELLM_MASTER_KEY",
        "POSTGRES_PASSWORD",
        "S3_SECRET_KEY",
        "MCP_AUTH_TOKEN",
        "KEYCLOAK_ADMIN_PASSWORD",
    ],
)
def test_secrets_come_from_the_env_file_not_the_compose_file(secret: str) -> None:
    env_example = (ROOT / ".env.example").read_text()
    assert f"{secret}=" in env_example
    assert "change-me" not in (ROOT / "compose.yaml").read_text()


def test_every_service_rotates_its_logs() -> None:
    for name, service in compose_file()["services"].items():
        logging = service.get("logging") or {}
        assert logging.get("driver") == "json-file", name
        assert logging["options"]["max-size"] and int(logging["options"]["max-file"]) >= 2, name


def resolved_project(tmp_path: Path, *profiles: str) -> dict[str, Any]:
    """The file as compose-go resolves it (anchors merged, ${VARS} from .env filled in)."""
    result = compose_config(project_copy(tmp_path), profiles, "--format", "json")
    assert result.returncode == 0, result.stderr
    project: dict[str, Any] = json.loads(result.stdout)
    return project


def traefik_routes(services: dict[str, Any]) -> dict[str, tuple[str, str, int]]:
    """router name -> (rule, compose service it reaches, port there), from the labels."""
    routes = {}
    for name, service in services.items():
        labels = service.get("labels") or {}
        if labels.get("traefik.enable") != "true":
            continue
        ports = {
            key.split(".")[3]: int(value)
            for key, value in labels.items()
            if key.startswith("traefik.http.services.") and key.endswith(".server.port")
        }
        for key, rule in labels.items():
            if key.startswith("traefik.http.routers.") and key.endswith(".rule"):
                router = key.split(".")[3]
                target = labels[f"traefik.http.routers.{router}.service"]
                assert target in ports, f"{name}: router {router} names unknown service {target}"
                assert labels[f"traefik.http.routers.{router}.entrypoints"] == "websecure"
                assert labels[f"traefik.http.routers.{router}.tls"] == "true"
                routes[router] = (rule, name, ports[target])
    return routes


def test_traefik_labels_route_each_host_to_the_right_service_port(tmp_path: Path) -> None:
    services = resolved_project(tmp_path, "traefik", "keycloak")["services"]
    routes = traefik_routes(services)
    assert routes == {
        "gateway": ("Host(`api.localhost`)", "gateway", 4000),
        "admin": ("Host(`admin.localhost`)", "gateway", 4000),
        "middleware": ("Host(`tools.localhost`)", "middleware", 4001),
        "open-webui": ("Host(`chat.localhost`)", "open-webui", 8080),
        "keycloak": ("Host(`auth.localhost`)", "keycloak", 8080),
        "s3": ("Host(`s3.localhost`)", "seaweedfs", 8333),
    }
    for _, service, port in routes.values():
        assert port == listening_port(service, services[service])
    admin = services["gateway"]["labels"]
    assert admin["traefik.http.routers.admin.middlewares"] == "admin-root"
    assert admin_root_redirect(admin, "https://admin.localhost/") == "https://admin.localhost/ui"
    assert admin_root_redirect(admin, "https://admin.localhost/ui") == "https://admin.localhost/ui"


def admin_root_redirect(labels: dict[str, str], url: str) -> str:
    """Apply the redirectregex labels as Traefik would (compose's `$$` is a literal `$`)."""
    redirect = "traefik.http.middlewares.admin-root.redirectregex"
    regex = labels[f"{redirect}.regex"].replace("$$", "$")
    replacement = labels[f"{redirect}.replacement"].replace("$$", "$").replace("${1}", r"\1")
    return re.sub(regex, replacement, url)


def test_traefik_waits_600s_for_streams_and_reads_the_tls_file(tmp_path: Path) -> None:
    traefik = resolved_project(tmp_path, "traefik")["services"]["traefik"]
    flags = dict(arg.split("=", 1) for arg in traefik["command"] if "=" in arg)
    for timeout in ("readTimeout", "writeTimeout", "idleTimeout"):
        assert flags[f"--entrypoints.websecure.transport.respondingTimeouts.{timeout}"] == "600s"
    assert flags["--serversTransport.forwardingTimeouts.responseHeaderTimeout"] == "600s"
    assert flags["--providers.docker.exposedbydefault"] == "false"
    dynamic = yaml.safe_load((ROOT / "deploy" / "traefik" / "dynamic.yaml").read_text())
    certificate = dynamic["tls"]["stores"]["default"]["defaultCertificate"]
    mounts = {v["target"]: v["source"] for v in traefik["volumes"]}
    assert certificate["certFile"].startswith(mounts_target(mounts, "certs"))


def mounts_target(mounts: dict[str, str], leaf: str) -> str:
    return next(target for target, source in mounts.items() if source.endswith(leaf))


def test_profiles_keep_the_default_stack_unchanged(tmp_path: Path) -> None:
    default = set(resolved_project(tmp_path)["services"])
    assert "traefik" not in default and "keycloak" not in default
    assert {"seaweedfs", "gateway", "middleware", "mcp-storage"} <= default


def test_seaweedfs_is_the_s3_store_of_the_storage_server_and_the_artifacts() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    assert config["storage"]["backend"] == "s3"
    assert urlsplit(config["storage"]["endpoint"]).hostname == "seaweedfs"
    assert config["storage"]["secret_key"] == "os.environ/S3_SECRET_KEY"
    # The storage server has no endpoint of its own, so it uses this shared section.
    assert "endpoint" not in config["mcp_server_settings"]["storage"]
    services = compose_file()["services"]
    for name in ("middleware", "mcp-storage"):
        assert "seaweedfs" in services[name]["depends_on"]


def test_presigned_links_name_an_address_browsers_reach(tmp_path: Path) -> None:
    """storage.public_endpoint (S3_PUBLIC_ENDPOINT) signs the links the storage server and
    the artifacts hand out: SeaweedFS's published port by default, its Traefik host when the
    operator sets it, and the same value for both services."""
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    assert config["storage"]["public_endpoint"] == "os.environ/S3_PUBLIC_ENDPOINT"
    services = resolved_project(tmp_path)["services"]
    for name in ("middleware", "mcp-storage"):
        assert services[name]["environment"]["S3_PUBLIC_ENDPOINT"] == "http://localhost:8333"
    published = {(p["published"], p["target"]) for p in services["seaweedfs"]["ports"]}
    assert ("8333", 8333) in published

    (tmp_path / "behind-traefik").mkdir()
    project = project_copy(tmp_path / "behind-traefik")
    env = (
        (project / ".env")
        .read_text()
        .replace("S3_PUBLIC_ENDPOINT=\n", "S3_PUBLIC_ENDPOINT=https://s3.localhost\n")
    )
    (project / ".env").write_text(env)
    result = compose_config(project, ("traefik",), "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    rule, target, port = traefik_routes(services)["s3"]
    public = urlsplit(services["middleware"]["environment"]["S3_PUBLIC_ENDPOINT"])
    assert (public.scheme, f"Host(`{public.hostname}`)") == ("https", rule)
    assert (target, port) == ("seaweedfs", 8333)
    assert public.path == ""  # SigV4 signs the path: a prefix the proxy strips breaks links


def test_keycloak_realm_matches_the_gateway_sso_settings() -> None:
    realm = json.loads((ROOT / "deploy" / "keycloak" / "toolrelay-realm.json").read_text())
    env = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert {r["name"] for r in realm["roles"]["realm"]} >= {"AI_ADMIN", "AI_USER"}
    client = next(c for c in realm["clients"] if c["clientId"] == env["GENERIC_CLIENT_ID"])
    assert client["publicClient"] and client["attributes"]["pkce.code.challenge.method"] == "S256"
    # The admin page sends redirect_uri = <its origin>/ui; `roles` puts realm_access.roles in.
    assert f"https://{env['TOOLRELAY_ADMIN_HOST']}/ui" in client["redirectUris"]
    assert "roles" in client["defaultClientScopes"]
    audience = next(
        m
        for scope in realm["clientScopes"]
        if scope["name"] in client["defaultClientScopes"]
        for m in scope["protocolMappers"]
        if m["protocolMapper"] == "oidc-audience-mapper"
    )
    assert audience["config"]["included.custom.audience"] == env["JWT_AUDIENCE"]
    realm_url = f"{env['KEYCLOAK_URL']}/realms/{realm['realm']}/protocol/openid-connect"
    assert env["GENERIC_AUTHORIZATION_ENDPOINT"] == f"{realm_url}/auth"
    assert env["GENERIC_TOKEN_ENDPOINT"] == f"{realm_url}/token"
    assert env["JWT_PUBLIC_KEY_URL"] == f"{realm_url}/certs"
