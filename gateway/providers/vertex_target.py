"""Where a `vertex_ai/` deployment's requests go: project, location and endpoint URLs.

As in LiteLLM: `vertex_project` (else `VERTEXAI_PROJECT`, else the project the credentials
name) and `vertex_location` (else `VERTEXAI_LOCATION`, else us-central1). `api_base`, when
set, replaces `https://{location}-aiplatform.googleapis.com` (a proxy, a private endpoint).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.deployments import Deployment
from gateway.providers.vertex_auth import CredentialSource, VertexConfigError

DEFAULT_LOCATION = "us-central1"
PROJECT_ENV = "VERTEXAI_PROJECT"
LOCATION_ENV = "VERTEXAI_LOCATION"
# Project ids (also domain-scoped `example.com:project`) and region names: both end up in the
# URL path, so anything else is refused rather than escaped.
_PROJECT = re.compile(r"^[a-z0-9][a-z0-9.:-]{0,127}$")
_LOCATION = re.compile(r"^[a-z0-9-]{1,63}$")


@dataclass(frozen=True, slots=True)
class VertexTarget:
    project: str
    location: str
    base: str

    def url(self, publisher: str, model: str, method: str) -> str:
        return (
            f"{self.base}/v1/projects/{self.project}/locations/{self.location}"
            f"/publishers/{publisher}/models/{model}:{method}"
        )


def credential_source(deployment: Deployment) -> CredentialSource:
    value = deployment.extra_params.get("vertex_credentials")
    if value is None or isinstance(value, str | Mapping):
        return value or None
    raise VertexConfigError(
        f"deployment {deployment.model_name!r}: vertex_credentials must be a path to a "
        f"service-account key or the key's JSON, not {type(value).__name__}",
        param="vertex_credentials",
    )


def _setting(deployment: Deployment, name: str, env: str, environ: Mapping[str, str]) -> str | None:
    value = deployment.extra_params.get(name)
    if value is None:
        return environ.get(env) or None
    return str(value)


def resolve_target(
    deployment: Deployment,
    credentials_project: str | None,
    environ: Mapping[str, str] = os.environ,
) -> VertexTarget:
    project = _setting(deployment, "vertex_project", PROJECT_ENV, environ) or credentials_project
    if not project:
        raise VertexConfigError(
            f"deployment {deployment.model_name!r} (vertex_ai/{deployment.model}) needs a "
            f"project: set litellm_params.vertex_project (or {PROJECT_ENV})",
            param="vertex_project",
        )
    location = _setting(deployment, "vertex_location", LOCATION_ENV, environ) or DEFAULT_LOCATION
    if not _PROJECT.match(project):
        raise VertexConfigError(
            f"deployment {deployment.model_name!r}: vertex_project {project!r} is not a "
            "Google Cloud project id",
            param="vertex_project",
        )
    if not _LOCATION.match(location):
        raise VertexConfigError(
            f"deployment {deployment.model_name!r}: vertex_location {location!r} is not a "
            "Google Cloud region (like us-central1, europe-west4 or global)",
            param="vertex_location",
        )
    base = deployment.api_base or _default_base(location)
    return VertexTarget(project, location, base)


def _default_base(location: str) -> str:
    if location == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"
