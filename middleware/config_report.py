"""The middleware's findings about its sections of the config file (see
`common.config.report`): `middleware_settings`, `mcp_servers` and `storage`."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from common.config import ConfigDocument, KeyPath, format_key_path
from common.config.report import Finding, Verdict, line_of

SECTIONS = ("middleware_settings", "mcp_servers", "storage")

# LiteLLM's own mcp_servers keys (its MCP gateway) that this middleware does not use.
LITELLM_MCP_KEYS = frozenset(
    {
        "description",
        "spec_version",
        "mcp_info",
        "static_headers",
        "extra_headers",
        "authentication_token",
        "server_id",
        "alias",
        "access_groups",
        "allow_all_keys",
        "auth_value_env",
    }
)


def middleware_findings(
    document: ConfigDocument,
    middleware_settings: Mapping[str, object],
    declared: set[str],
    sections: BaseModel,
) -> list[Finding]:
    findings: list[Finding] = []

    def add(verdict: Verdict, path: KeyPath, message: str = "") -> None:
        findings.append(
            Finding(verdict, format_key_path(path), message, line=line_of(document.lines, path))
        )

    for key in middleware_settings:
        if key in declared:
            add(Verdict.HONOURED, ("middleware_settings", key))
        else:
            add(Verdict.UNKNOWN, ("middleware_settings", key))
    servers = getattr(sections, "mcp_servers", {})
    for name, entry in servers.items():
        add(
            Verdict.HONOURED,
            ("mcp_servers", name),
            f"{entry.transport} {entry.url or entry.command}",
        )
        for key in entry.model_extra or {}:
            where = ("mcp_servers", name, key)
            if key in LITELLM_MCP_KEYS:
                add(Verdict.IGNORED, where, "a LiteLLM MCP setting the middleware does not use")
            else:
                add(Verdict.UNKNOWN, where)
    storage = getattr(sections, "storage", None)
    if isinstance(storage, BaseModel):
        for key in sorted(storage.model_fields_set & set(type(storage).model_fields)):
            add(Verdict.HONOURED, ("storage", key))
        for key in storage.model_extra or {}:
            add(Verdict.UNKNOWN, ("storage", key))
    for ref in document.references:
        if not ref.path or ref.path[0] not in SECTIONS:
            continue
        if ref.is_set:
            add(Verdict.HONOURED, ref.path, f"os.environ/{ref.name} is set")
        elif ref.path[0] == "mcp_servers" and len(ref.path) > 2 and ref.path[2] == "env":
            add(
                Verdict.WRONG,
                ref.path,
                f"environment variable {ref.name} is not set; the stdio server starts without it",
            )
        else:
            add(Verdict.WRONG, ref.path, f"environment variable {ref.name} is not set")
    return findings
