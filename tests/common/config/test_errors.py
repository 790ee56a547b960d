"""The one spelling of key paths and validation problems, used by every service."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from common.config import (
    describe_validation_error,
    first_problem,
    format_key_path,
    join_key_path,
    validation_problems,
)


class Inner(BaseModel):
    rpm: int = Field(ge=0)


class Outer(BaseModel):
    items: list[Inner]


def _error(value: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        Outer.model_validate(value)
    return info.value


def test_key_paths() -> None:
    assert format_key_path(("model_list", 0, "litellm_params")) == "model_list[0].litellm_params"
    assert format_key_path(()) == "<top level>"
    assert join_key_path("a.b", (0, "c")) == "a.b[0].c"
    assert join_key_path("a.b", ("c",)) == "a.b.c"
    assert join_key_path("a", ()) == "a"
    assert join_key_path("", ("x",)) == "x"


def test_problems_are_prefixed_and_lower_case() -> None:
    error = _error({"items": [{"rpm": -1}, {}]})
    assert validation_problems(error, "section") == [
        "section.items[0].rpm: input should be greater than or equal to 0",
        "section.items[1].rpm: field required",
    ]


def test_description_names_the_file_and_shows_the_input() -> None:
    text = describe_validation_error("c.yaml", _error({"items": [{"rpm": "lots"}]}))
    assert text.splitlines() == [
        "c.yaml: invalid configuration",
        "  items[0].rpm: input should be a valid integer, unable to parse string as an integer,"
        " got 'lots'",
    ]


def test_first_problem_for_request_bodies() -> None:
    assert first_problem(_error({"items": [{"rpm": -1}]})) == (
        "items.0.rpm",
        "Input should be greater than or equal to 0",
    )
    assert first_problem(_error([]))[0] == "body"
