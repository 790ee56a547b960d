"""The Kubernetes manifests validate against the Kubernetes schemas (offline, strict) and
agree with the config and the probes the services serve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"


def documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


@pytest.mark.parametrize(
    ("file", "doc"), documents(), ids=lambda v: v if isinstance(v, str) else v["metadata"]["name"]
)
def test_manifest_validates_strictly(file: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_validator_rejects_an_unknown_field() -> None:
    doc = next(d for _, d in documents() if d["kind"] == "Deployment")
    broken = {**doc, "spec": {**doc["spec"], "replicaz": 3}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == present


def test_configmap_carries_the_deploy_config() -> None:
    configmap = next(d for _, d in documents() if d["kind"] == "ConfigMap")
    assert yaml.safe_load(configmap["data"]["config.yaml"]) == yaml.safe_load(
        (ROOT / "deploy" / "config.yaml").read_text()
    )


def test_gateway_and_middleware_probe_their_health_routes_and_autoscale() -> None:
    docs = [d for _, d in documents()]
    for name in ("gateway", "middleware"):
        deployment = next(
            d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name
        )
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/liveliness"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/readiness"
        assert container["resources"]["limits"] and container["resources"]["requests"]
        port = int(container["args"][container["args"].index("--port") + 1])
        assert container["ports"][0]["containerPort"] == port
        assert any(
            d["kind"] == "HorizontalPodAutoscaler" and d["metadata"]["name"] == name for d in docs
        )
    services = {d["metadata"]["name"] for d in docs if d["kind"] == "Service"}
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    for entry in config["mcp_servers"].values():
        assert entry["url"].split("//")[1].split(":")[0] in services
