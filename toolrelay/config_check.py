"""`toolrelay config check FILE`: what every service makes of a LiteLLM-format config file.

Prints, per service, what is honoured, ignored, unknown and wrong, with key paths and line
numbers, then the `os.environ/` references and the recognised LiteLLM environment variables.
Exit status: 0 ok, 1 warnings, 2 errors (a service would refuse to start).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, TextIO

from pydantic import ValidationError

from common.config import ConfigDocument, ConfigError, KeyPath, format_key_path, read_document
from common.config.report import (
    EXIT_ERRORS,
    Finding,
    Verdict,
    as_json,
    exit_status,
    line_of,
    render,
    summary,
)
from gateway.config.loader import check_gateway
from gateway.config.schema import ModelEntry
from gateway.deployments import deployment_from_entry, split_provider
from gateway.providers.registry import ConfigCheck, default_config_checks, default_factories
from mcp_servers.registry import SERVERS
from middleware.settings import check_middleware


def service_findings(document: ConfigDocument) -> dict[str, list[Finding]]:
    return {
        "gateway": check_gateway(document) + provider_findings(document),
        "middleware": check_middleware(document),
        "mcp servers": mcp_server_findings(document),
    }


def provider_findings(document: ConfigDocument) -> list[Finding]:
    """Deployments whose `provider/` prefix the gateway has no provider for, and those whose
    provider finds their settings wanting (a bedrock/ deployment with no region)."""
    known = default_factories()
    checks = default_config_checks()
    findings = []
    entries = document.data.get("model_list")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        params = entry.get("litellm_params") if isinstance(entry, Mapping) else None
        model = params.get("model") if isinstance(params, Mapping) else None
        if not isinstance(model, str):
            continue
        provider, _ = split_provider(model)
        path = ("model_list", index, "litellm_params", "model")
        problem = None
        if provider not in known:
            problem = (
                f"provider {provider!r} is not supported; the gateway starts, and requests "
                f"to this deployment fail (supported: {', '.join(sorted(known))})"
            )
        elif provider in checks:
            problem = _provider_problem(entry, index, checks[provider], document.environ)
        findings += _load_time_defaults(entry, index, document)
        if problem is not None:
            findings.append(
                Finding(
                    Verdict.WRONG,
                    format_key_path(path),
                    problem,
                    line=line_of(document.lines, path),
                )
            )
    return findings


def _load_time_defaults(entry: Any, index: int, document: ConfigDocument) -> list[Finding]:
    """What the gateway fills in for this entry: the provider of a bare model name, and the
    settings it takes from the provider's environment variables (named, never shown)."""
    try:
        parsed = ModelEntry.model_validate(entry)
    except ValidationError:
        return []
    deployment = deployment_from_entry(parsed, index, document.environ)
    findings = []
    if deployment.provider_inferred:
        path: KeyPath = ("model_list", index, "litellm_params", "model")
        message = f"provider {deployment.provider}, inferred from the model name"
        findings.append(
            Finding(
                Verdict.HONOURED, format_key_path(path), message, line=line_of(document.lines, path)
            )
        )
    for name, variable in sorted(deployment.from_environment.items()):
        path = ("model_list", index, "litellm_params")
        message = f"{name} not set: taken from the environment variable {variable}"
        findings.append(
            Finding(
                Verdict.HONOURED, format_key_path(path), message, line=line_of(document.lines, path)
            )
        )
    return findings


def _provider_problem(
    entry: Any, index: int, check: ConfigCheck, environ: Mapping[str, str]
) -> str | None:
    try:
        parsed = ModelEntry.model_validate(entry)
    except ValidationError:
        return None  # the gateway's own findings name what is wrong with the entry
    problem = check(deployment_from_entry(parsed, index), environ)
    if problem is None:
        return None
    return f"{problem}; the gateway starts, and requests to this deployment are refused"


def mcp_server_findings(document: ConfigDocument) -> list[Finding]:
    section = document.data.get("mcp_server_settings")
    findings: list[Finding] = []
    if not isinstance(section, Mapping):
        return findings
    for name in section:
        path = ("mcp_server_settings", str(name))
        line = line_of(document.lines, path)
        if name in SERVERS:
            message = f"settings of `toolrelay mcp {name}`"
            findings.append(Finding(Verdict.HONOURED, format_key_path(path), message, line=line))
        else:
            findings.append(
                Finding(Verdict.UNKNOWN, format_key_path(path), "no such server", line=line)
            )
    for ref in document.references:
        if ref.path[:1] != ("mcp_server_settings",):
            continue
        line = line_of(document.lines, ref.path)
        where = format_key_path(ref.path)
        if ref.is_set:
            findings.append(
                Finding(Verdict.HONOURED, where, f"os.environ/{ref.name} is set", line=line)
            )
        else:
            # The MCP servers refuse to start on an unset reference in their own section.
            message = f"environment variable {ref.name} is not set; the server will not start"
            findings.append(Finding(Verdict.WRONG, where, message, fatal=True, line=line))
    return findings


def run_check(
    path: str, out: TextIO, *, as_json_output: bool, environ: Mapping[str, str] | None = None
) -> int:
    try:
        document = read_document(path, os.environ if environ is None else environ)
    except ConfigError as exc:
        _print_error(out, str(exc), as_json_output)
        return EXIT_ERRORS
    by_service = service_findings(document)
    everything = [f for items in by_service.values() for f in items]
    status = exit_status(everything)
    if as_json_output:
        payload: dict[str, Any] = {
            "file": document.where,
            "status": status,
            "services": {name: as_json(items) for name, items in by_service.items()},
        }
        out.write(json.dumps(payload, indent=2) + "\n")
        return status
    for name, items in by_service.items():
        out.write(render(items, f"{name}") + "\n\n")
    out.write(f"{document.where}: {summary(everything)}\n")
    return status


def _print_error(out: TextIO, message: str, as_json_output: bool) -> None:
    if as_json_output:
        out.write(json.dumps({"status": EXIT_ERRORS, "error": message}) + "\n")
    else:
        out.write(f"{message}\n")
