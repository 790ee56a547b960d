"""The gateway's findings about a config file: what it honours, ignores, does not know, or
finds wrong (see `common.config.report`). Sections other services own are left to them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from pydantic import BaseModel

from common.config import ConfigDocument, KeyPath, format_key_path
from common.config.report import Finding, Verdict, line_of
from common.tracing.settings import CALLBACK_KEYS
from gateway.callbacks import HONOURED as HONOURED_CALLBACKS
from gateway.config.catalog import (
    DECLARED_BUT_IGNORED,
    ENV_HONOURED,
    ENV_IGNORED,
    HEALTH_CHECK_MODES,
    LITELLM_PARAMS_IGNORED,
    LITELLM_PARAMS_PROVIDER,
    PRICE_FIELDS,
    SECTION_IGNORED,
    TOP_LEVEL_IGNORED,
)
from gateway.config.schema import ConfigFile, LiteLLMParams, ModelEntry

LITELLM_PARAMS_FIELDS = frozenset(LiteLLMParams.model_fields)

# Top-level sections the middleware and the MCP servers validate and report.
OTHER_SERVICES = frozenset({"mcp_servers", "middleware_settings", "mcp_server_settings", "storage"})
SETTINGS_SECTIONS = ("router_settings", "litellm_settings", "general_settings", "ui_settings")
# Extras the gateway reads although its schema does not declare them.
EXTRA_HONOURED = {("router_settings", "redis_url"): "shared router state, limits and cache"}


def gateway_findings(
    document: ConfigDocument, parsed: ConfigFile, request_defaults: frozenset[str]
) -> list[Finding]:
    lines = document.lines
    findings: list[Finding] = []

    def add(verdict: Verdict, path: KeyPath, message: str = "") -> None:
        findings.append(Finding(verdict, format_key_path(path), message, line=line_of(lines, path)))

    for key in parsed.model_extra or {}:
        if key in TOP_LEVEL_IGNORED:
            add(Verdict.IGNORED, (key,), "a LiteLLM section toolrelay does not implement")
        else:
            add(Verdict.UNKNOWN, (key,))
    for name in SETTINGS_SECTIONS:
        written = document.data.get(name)
        in_file = set(written) if isinstance(written, dict) else set()
        _settings_section(getattr(parsed, name), name, in_file, add)
    for index, entry in enumerate(parsed.model_list):
        _model_entry(entry, ("model_list", index), request_defaults, add)
    if parsed.environment_variables:
        names = ", ".join(sorted(parsed.environment_variables))
        add(Verdict.HONOURED, ("environment_variables",), f"exported for references: {names}")
    findings.extend(reference_findings(document, exclude=OTHER_SERVICES))
    findings.extend(environment_findings(document.environ))
    return findings


_CALLBACK_MEANING = {
    "otel": "OpenTelemetry traces over OTLP/HTTP",
    "langfuse": "traces sent to Langfuse's OTLP endpoint",
    "langfuse_otel": "traces sent to Langfuse's OTLP endpoint",
    "prometheus": "/metrics (always served)",
}


def _callback_findings(section: BaseModel, key: str, add: _Add) -> None:
    """Each callback name is honoured or named as not supported (the start-up warning says the
    same), never silently accepted."""
    value = getattr(section, key)
    names = [value] if isinstance(value, str) else list(value or [])
    done = [n for n in names if n in HONOURED_CALLBACKS]
    refused = [n for n in names if n not in HONOURED_CALLBACKS]
    path = ("litellm_settings", key)
    if done:
        add(
            Verdict.HONOURED,
            path,
            "; ".join(f"{n}: {_CALLBACK_MEANING.get(n, 'implemented')}" for n in done),
        )
    if refused:
        add(
            Verdict.IGNORED,
            path,
            f"not supported by toolrelay, not run: {', '.join(refused)} "
            f"(supported: {', '.join(sorted(HONOURED_CALLBACKS))})",
        )


def _settings_section(section: BaseModel, name: str, in_file: set[str], add: _Add) -> None:
    # Keys set by env overrides or LiteLLM's tolerances have their own findings.
    for key in sorted(section.model_fields_set & set(type(section).model_fields) & in_file):
        reason = DECLARED_BUT_IGNORED.get((name, key))
        if name == "litellm_settings" and key in CALLBACK_KEYS:
            _callback_findings(section, key, add)
        elif reason:
            add(Verdict.IGNORED, (name, key), reason)
        else:
            add(Verdict.HONOURED, (name, key))
            _nested_unknown(getattr(section, key), (name, key), add)
    for key in section.model_extra or {}:
        if (name, key) in EXTRA_HONOURED:
            add(Verdict.HONOURED, (name, key), EXTRA_HONOURED[(name, key)])
        elif key in SECTION_IGNORED.get(name, frozenset()):
            add(Verdict.IGNORED, (name, key), "a LiteLLM setting toolrelay does not implement")
        else:
            add(Verdict.UNKNOWN, (name, key))


def _nested_unknown(value: object, path: KeyPath, add: _Add) -> None:
    """Keys a declared sub-section (`retry_policy`, each `model_group_retry_policy` entry)
    does not know, e.g. a misspelt `RateLimitErrorRetry`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, BaseModel):
                _nested_unknown(item, (*path, key), add)
    elif isinstance(value, BaseModel):
        for key in value.model_extra or {}:
            add(Verdict.UNKNOWN, (*path, key))


def _model_entry(
    entry: ModelEntry, path: KeyPath, request_defaults: frozenset[str], add: _Add
) -> None:
    params = entry.litellm_params
    add(Verdict.HONOURED, path, f"{entry.model_name} -> {params.model}")
    for key in entry.model_extra or {}:
        if key in LITELLM_PARAMS_FIELDS:
            add(Verdict.IGNORED, (*path, key), f"not read here; put it under litellm_params.{key}")
        else:
            add(Verdict.UNKNOWN, (*path, key))
    defaults = sorted(k for k in params.model_extra or {} if k in request_defaults)
    if defaults:
        add(
            Verdict.HONOURED,
            (*path, "litellm_params"),
            f"request defaults for {entry.model_name}: {', '.join(defaults)}",
        )
    for key in params.model_extra or {}:
        if key in request_defaults:
            continue
        where = (*path, "litellm_params", key)
        if key in PRICE_FIELDS:
            add(Verdict.HONOURED, where, PRICE_FIELDS[key])
        elif key in LITELLM_PARAMS_PROVIDER:
            add(Verdict.HONOURED, where, LITELLM_PARAMS_PROVIDER[key])
        elif key in LITELLM_PARAMS_IGNORED:
            add(Verdict.IGNORED, where, "a LiteLLM deployment setting toolrelay does not use")
        else:
            add(Verdict.UNKNOWN, where)
    mode = entry.model_info.mode
    if mode is not None:
        where = (*path, "model_info", "mode")
        if mode in HEALTH_CHECK_MODES:
            add(Verdict.HONOURED, where, f"{mode}: /health checks it with a {mode} call")
        else:
            add(
                Verdict.IGNORED,
                where,
                f"{mode}: /health checks this deployment with a chat call; "
                "requests are routed by endpoint, not by mode",
            )
    for key in entry.model_info.model_extra or {}:
        if key in PRICE_FIELDS:
            add(Verdict.HONOURED, (*path, "model_info", key), PRICE_FIELDS[key])
        else:
            add(Verdict.IGNORED, (*path, "model_info", key), "kept as model metadata (/model/info)")


def reference_findings(
    document: ConfigDocument,
    *,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> list[Finding]:
    """One finding per `os.environ/NAME` reference in the selected top-level sections."""
    wanted = set(only) if only is not None else None
    skipped = set(exclude)
    findings = []
    for ref in document.references:
        section = str(ref.path[0]) if ref.path else ""
        if (wanted is not None and section not in wanted) or section in skipped:
            continue
        line = line_of(document.lines, ref.path)
        where = format_key_path(ref.path)
        if ref.is_set:
            findings.append(
                Finding(Verdict.HONOURED, where, f"os.environ/{ref.name} is set", line=line)
            )
        else:
            findings.append(
                Finding(
                    Verdict.WRONG,
                    where,
                    f"environment variable {ref.name} is not set; the value is empty",
                    line=line,
                )
            )
    return findings


def environment_findings(environ: Mapping[str, str]) -> list[Finding]:
    """Every recognised LiteLLM environment variable that is set, and what it does here."""
    findings = []
    for name, effect in ENV_HONOURED.items():
        if environ.get(name):
            findings.append(Finding(Verdict.HONOURED, f"env {name}", effect))
    for name, instead in ENV_IGNORED.items():
        if environ.get(name):
            findings.append(Finding(Verdict.IGNORED, f"env {name}", f"not used: {instead}"))
    return findings


class _Add(Protocol):
    def __call__(self, verdict: Verdict, path: KeyPath, message: str = "") -> None: ...
