"""Each kustomize overlay, rendered by the real kubectl (kustomize v5 built in) that
deploy/k8s/install-kubectl.sh installs from the npm registry, validates strictly and offline
against the Kubernetes schemas, and has the shape the deployment needs: TLS ingress with
streaming timeouts, a migration step before the gateway, SeaweedFS on a volume, external or
in-cluster PostgreSQL and Redis, autoscaling and disruption budgets, network policies, and
secrets only from the Secret."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.support.components import require_component

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBECTL = K8S / ".bin" / "kubectl"
KUBERNETES_VERSION = "1.31.0"
OVERLAYS = ("production", "dev")
MCP_SERVERS = {"mcp-postgres", "mcp-fetch", "mcp-browser", "mcp-storage"}
SECRET = "toolrelay-secrets"


@pytest.fixture(scope="session")
def kubectl() -> Path:
    require_component(shutil.which("npm") is not None, "npm (installs kubectl)")
    result = subprocess.run(
        [str(K8S / "install-kubectl.sh")], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return KUBECTL


def render(kubectl: Path, overlay: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(kubectl), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="session", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest, kubectl: Path) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(kubectl, request.param)


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def test_every_rendered_document_validates_strictly(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, docs = rendered
    assert len(docs) > 20
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(
                f"{overlay}: {doc['kind']}/{doc['metadata']['name']}: {exc}"
            ) from exc


def test_validator_rejects_an_unknown_field(kubectl: Path) -> None:
    doc = find(render(kubectl, "production"), "Deployment", "gateway")
    broken = {**doc, "spec": {**doc["spec"], "replicaz": 3}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_ingress_terminates_tls_and_keeps_streams_open(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    ingress = find(docs, "Ingress", "toolrelay")
    hosts = {rule["host"]: rule for rule in ingress["spec"]["rules"]}
    assert set(ingress["spec"]["tls"][0]["hosts"]) == set(hosts)
    backends = {
        host: rule["http"]["paths"][0]["backend"]["service"] for host, rule in hosts.items()
    }
    assert sorted((b["name"], b["port"]["number"]) for b in backends.values()) == [
        ("gateway", 4000),
        ("middleware", 4001),
        ("seaweedfs", 8333),
    ]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "600"
    assert annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "600"
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    for backend in backends.values():
        service = find(docs, "Service", backend["name"])
        assert service["spec"]["ports"][0]["port"] == backend["port"]["number"]


def test_migrations_run_before_the_gateway_serves(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    job = find(docs, "Job", "toolrelay-migrate")
    assert pod_spec(job)["containers"][0]["args"][:1] == ["migrate"]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    gateway = pod_spec(find(docs, "Deployment", "gateway"))
    assert [c["args"][0] for c in gateway["initContainers"]] == ["migrate"]
    assert gateway["initContainers"][0]["image"] == gateway["containers"][0]["image"]


def test_seaweedfs_keeps_its_data_on_a_volume_and_serves_the_config(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    seaweedfs = find(docs, "StatefulSet", "seaweedfs")
    assert seaweedfs["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    config = yaml.safe_load(find(docs, "ConfigMap", "toolrelay-config")["data"]["config.yaml"])
    assert config["storage"]["endpoint"] == "http://seaweedfs:8333"
    assert find(docs, "Service", "seaweedfs")["spec"]["ports"][0]["port"] == 8333


def test_presigned_links_are_signed_for_the_ingress_s3_host(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    config = yaml.safe_load(find(docs, "ConfigMap", "toolrelay-config")["data"]["config.yaml"])
    assert config["storage"]["public_endpoint"] == "os.environ/S3_PUBLIC_ENDPOINT"
    public = find(docs, "ConfigMap", "toolrelay-public-endpoints")["data"]["S3_PUBLIC_ENDPOINT"]
    ingress = find(docs, "Ingress", "toolrelay")
    s3_hosts = [
        rule["host"]
        for rule in ingress["spec"]["rules"]
        if rule["http"]["paths"][0]["backend"]["service"]["name"] == "seaweedfs"
    ]
    assert [public] == [f"https://{host}" for host in s3_hosts]
    assert s3_hosts[0] in ingress["spec"]["tls"][0]["hosts"]
    for name in ("middleware", "mcp-storage"):
        env = {
            e["name"]: e for e in pod_spec(find(docs, "Deployment", name))["containers"][0]["env"]
        }
        reference = env["S3_PUBLIC_ENDPOINT"]["valueFrom"]["configMapKeyRef"]
        assert reference == {"name": "toolrelay-public-endpoints", "key": "S3_PUBLIC_ENDPOINT"}
    # the ingress controller may reach SeaweedFS (browsers fetch links through it)
    policy = find(docs, "NetworkPolicy", "seaweedfs-from-middleware-and-storage")
    sources = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    } in sources


def test_postgres_and_redis_are_external_by_default_and_in_cluster_in_dev(kubectl: Path) -> None:
    production = render(kubectl, "production")
    for name in ("postgres", "redis"):
        assert find(production, "Service", name)["spec"]["type"] == "ExternalName"
        assert not [
            d for d in production if d["kind"] == "StatefulSet" and d["metadata"]["name"] == name
        ]
    dev = render(kubectl, "dev")
    for name, port in (("postgres", 5432), ("redis", 6379)):
        service = find(dev, "Service", name)
        assert service["spec"]["type"] == "ClusterIP" and "externalName" not in service["spec"]
        assert service["spec"]["ports"][0]["port"] == port
        statefulset = find(dev, "StatefulSet", name)
        assert service["spec"]["selector"] == statefulset["spec"]["selector"]["matchLabels"]
        assert statefulset["spec"]["volumeClaimTemplates"]


def test_gateway_and_middleware_autoscale_with_disruption_budgets(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    for name in ("gateway", "middleware"):
        deployment = find(docs, "Deployment", name)
        container = pod_spec(deployment)["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/liveliness"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/readiness"
        assert find(docs, "HorizontalPodAutoscaler", name)["spec"]["scaleTargetRef"]["name"] == name
        budget = find(docs, "PodDisruptionBudget", name)
        assert (
            budget["spec"]["selector"]["matchLabels"]
            == deployment["spec"]["selector"]["matchLabels"]
        )


def test_only_the_middleware_reaches_the_mcp_servers(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    mcp_deployments = {
        d["metadata"]["name"]
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["name"].startswith("mcp-")
    }
    assert mcp_deployments == MCP_SERVERS
    for name in mcp_deployments:
        labels = pod_spec_labels(find(docs, "Deployment", name))
        covering = [p for p in policies if selects(p["spec"]["podSelector"], labels)]
        assert covering, f"{name}: no NetworkPolicy selects it"
        for policy in covering:
            sources = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
            assert sources == [
                {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "middleware"}}}
            ]


def pod_spec_labels(doc: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = doc["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def test_secrets_come_only_from_the_secret_object(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    assert not [d for d in docs if d["kind"] == "Secret"]
    example = yaml.safe_load((K8S / "secret.example.yaml").read_text())
    for doc in docs:
        if "template" not in doc.get("spec", {}):
            continue
        spec = pod_spec(doc)
        for container in spec.get("initContainers", []) + spec["containers"]:
            for source in container.get("envFrom", []):
                assert source["secretRef"]["name"] == SECRET
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference is not None:
                    assert reference["name"] == SECRET
                    assert reference["key"] in example["stringData"]
                else:
                    assert "PASSWORD" not in variable["name"] and "SECRET" not in variable["name"]


def test_configmap_carries_the_deploy_config() -> None:
    configmap = yaml.safe_load((K8S / "base" / "configmap.yaml").read_text())
    assert yaml.safe_load(configmap["data"]["config.yaml"]) == yaml.safe_load(
        (ROOT / "deploy" / "config.yaml").read_text()
    )


def test_base_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in (K8S / "base").glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


def test_mcp_servers_in_the_config_have_services(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    services = {d["metadata"]["name"] for d in docs if d["kind"] == "Service"}
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    for entry in config["mcp_servers"].values():
        assert entry["url"].split("//")[1].split(":")[0] in services
