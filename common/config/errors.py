"""Config errors, and the one way a key path and a pydantic ValidationError are spelled.

Every service reports a bad value as `file: a.b[0].c: message`, so an operator reads the
same shape whichever service refused the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

KeyPath = tuple[str | int, ...]


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, key path and expectation."""


def format_key_path(path: Sequence[str | int]) -> str:
    """`('model_list', 0, 'litellm_params')` -> `model_list[0].litellm_params`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def join_key_path(prefix: str, path: Sequence[str | int]) -> str:
    """A path below `prefix` (`''` for none): `join_key_path('a.b', (0, 'c'))` -> `a.b[0].c`."""
    inner = format_key_path(path) if path else ""
    if not prefix:
        return inner or "<top level>"
    if not inner:
        return prefix
    return f"{prefix}{inner}" if inner.startswith("[") else f"{prefix}.{inner}"


def validation_problems(
    exc: ValidationError, prefix: str = "", *, show_input: bool = False
) -> list[str]:
    """One `a.b[0].c: message` line per error, the paths below `prefix`."""
    problems = []
    for error in exc.errors():
        line = f"{join_key_path(prefix, error['loc'])}: {error['msg'].lower()}"
        if show_input:
            line += f", got {describe_value(error.get('input'))}"
        problems.append(line)
    return problems


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """The first error's dotted location (`body` for the whole) and message, for 4xx bodies."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return where, first["msg"]


def describe_validation_error(where: str, exc: ValidationError, prefix: str = "") -> str:
    """`where: invalid configuration` followed by one indented line per problem."""
    lines = [f"{where}: invalid configuration"]
    lines.extend(f"  {line}" for line in validation_problems(exc, prefix, show_input=True))
    return "\n".join(lines)


def describe_value(value: Any) -> str:
    if isinstance(value, dict | list):
        return kind_of(value)
    return repr(value)


def kind_of(value: Any) -> str:
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)
