"""What a service makes of a config file: one finding per key or environment variable.

    honoured  the service reads it and acts on it
    ignored   a LiteLLM setting the service accepts but does not act on
    unknown   neither LiteLLM nor the service knows it (often a typo)
    wrong     a value that is misplaced or malformed; `fatal` when the service cannot start

`toolrelay config check` prints the findings of every service; each service logs its own
at start as one block. Exit status: 0 when nothing needs attention, 1 for warnings, 2 when
a service would refuse the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

import yaml
from pydantic import ValidationError

from common.config.errors import KeyPath, format_key_path

EXIT_OK = 0
EXIT_WARNINGS = 1
EXIT_ERRORS = 2


class Verdict(StrEnum):
    HONOURED = "honoured"
    IGNORED = "ignored"
    UNKNOWN = "unknown"
    WRONG = "wrong"


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    path: str
    message: str = ""
    fatal: bool = False
    line: int | None = None

    @property
    def needs_attention(self) -> bool:
        return self.verdict is not Verdict.HONOURED

    def describe(self) -> str:
        where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{where}: {self.message}" if self.message else where


def exit_status(findings: Iterable[Finding]) -> int:
    status = EXIT_OK
    for finding in findings:
        if finding.fatal:
            return EXIT_ERRORS
        if finding.needs_attention:
            status = EXIT_WARNINGS
    return status


_HEADINGS = {
    Verdict.WRONG: "wrong",
    Verdict.UNKNOWN: "unknown (neither LiteLLM nor toolrelay reads these)",
    Verdict.IGNORED: "ignored (LiteLLM settings toolrelay does not act on)",
    Verdict.HONOURED: "honoured",
}


def render(findings: Iterable[Finding], title: str) -> str:
    """One block of text: a title, then the findings grouped by verdict, worst first."""
    items = list(findings)
    lines = [f"{title}: {summary(items)}"]
    for verdict in (Verdict.WRONG, Verdict.UNKNOWN, Verdict.IGNORED, Verdict.HONOURED):
        group = [f for f in items if f.verdict is verdict]
        if not group:
            continue
        lines.append(f"  {_HEADINGS[verdict]}:")
        for finding in group:
            marker = "ERROR " if finding.fatal else ""
            lines.append(f"    {marker}{finding.describe()}")
    return "\n".join(lines)


def summary(findings: Iterable[Finding]) -> str:
    items = list(findings)
    counts = {v: sum(1 for f in items if f.verdict is v) for v in Verdict}
    status = {EXIT_OK: "ok", EXIT_WARNINGS: "warnings", EXIT_ERRORS: "errors"}[exit_status(items)]
    parts = ", ".join(f"{counts[v]} {v.value}" for v in Verdict)
    return f"{status} ({parts})"


class _Logger(Protocol):
    def info(self, event: str, **kw: Any) -> Any: ...
    def warning(self, event: str, **kw: Any) -> Any: ...


def log_config_report(log: _Logger, service: str, where: str, findings: Iterable[Finding]) -> None:
    """Log `findings` once, as one block: a warning when any needs attention."""
    items = list(findings)
    block = render(items, f"{service} config {where}")
    if exit_status(items) == EXIT_OK:
        log.info("config report", report=block)
    else:
        log.warning("config report", report=block)


def as_json(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [{**asdict(f), "verdict": f.verdict.value} for f in findings]


def validation_findings(
    exc: ValidationError, lines: Mapping[KeyPath, int], prefix: KeyPath = ()
) -> list[Finding]:
    """One fatal `wrong` finding per problem, with its key path (below `prefix`) and line."""
    findings = []
    for error in exc.errors():
        path = (*prefix, *error["loc"])
        findings.append(
            Finding(
                Verdict.WRONG,
                format_key_path(path),
                error["msg"].lower(),
                fatal=True,
                line=line_of(lines, path),
            )
        )
    return findings


def key_lines(text: str) -> dict[KeyPath, int]:
    """The 1-based line of every key and list item in a YAML document, by key path."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    found: dict[KeyPath, int] = {}
    if root is not None:
        _walk(root, (), found)
    return found


def _walk(node: yaml.Node, path: KeyPath, found: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            found[child] = key_node.start_mark.line + 1
            _walk(value_node, child, found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            found[child] = item.start_mark.line + 1
            _walk(item, child, found)


def line_of(lines: Mapping[KeyPath, int], path: KeyPath) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
