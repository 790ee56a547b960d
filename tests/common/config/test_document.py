"""Reading a config file once, for every service: YAML, environment, references."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.config import (
    ConfigError,
    apply_env_overrides,
    document_from_mapping,
    read_document,
    resolve_references,
)


def test_references_resolve_against_the_environment_and_the_declared_section() -> None:
    document = document_from_mapping(
        {
            "environment_variables": {"DECLARED": "from-file", "BOTH": "file"},
            "a": {"b": ["os.environ/DECLARED", "os.environ/BOTH", "os.environ/ABSENT"]},
        },
        environ={"BOTH": "process"},
    )
    assert document.data["a"]["b"] == ["from-file", "process", None]
    assert document.missing_warnings() == ["a.b[2]: environment variable ABSENT is not set"]


def test_resolution_reports_every_missing_variable_with_its_path() -> None:
    value, missing = resolve_references({"x": [{"y": "os.environ/NOPE"}]}, {}, ("top",))
    assert value == {"x": [{"y": None}]}
    assert [(m.path, m.name) for m in missing] == [(("top", "x", 0, "y"), "NOPE")]


def test_env_overrides_replace_file_values_without_touching_the_input() -> None:
    raw = {"general_settings": {"master_key": "file"}}
    copy = dict(raw)
    applied = apply_env_overrides(
        copy,
        {"KEY": "env", "EMPTY": ""},
        {"KEY": ("general_settings", "master_key"), "EMPTY": ("general_settings", "x")},
    )
    assert applied == ["KEY"]
    assert copy["general_settings"] == {"master_key": "env"}
    assert raw["general_settings"] == {"master_key": "file"}


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    with pytest.raises(ConfigError, match=rf"{bad}: invalid YAML"):
        read_document(bad, {})
    with pytest.raises(ConfigError, match="file not found"):
        read_document(tmp_path / "absent.yaml", {})
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n")
    with pytest.raises(ConfigError, match="expected a mapping at the top level, got a list"):
        read_document(listing, {})


def test_no_path_is_an_empty_document() -> None:
    document = read_document(None, {})
    assert document.data == {}
    assert document.where == "<config>"
