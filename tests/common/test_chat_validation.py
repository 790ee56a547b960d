"""The one check of a chat body: what it refuses (and names), and that it passes the dict on."""

from __future__ import annotations

from typing import Any

import pytest

from common.chat_validation import ChatBodyError, check_body_shape, parse_chat_request

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"messages": MESSAGES}, "model", "missing_required_parameter"),
        ({"model": "", "messages": MESSAGES}, "model", "missing_required_parameter"),
        ({"model": "m"}, "messages", "missing_required_parameter"),
        ({"model": "m", "messages": []}, "messages", "missing_required_parameter"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]", None),
        ({"model": "m", "messages": [{"content": "x"}]}, "messages[0]", None),
        (
            {"model": "m", "messages": [{"role": "user", "content": 5}]},
            "messages",
            "invalid_request_body",
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "assistant", "tool_calls": [{"function": {"name": ["x"]}}]}],
            },
            "messages",
            "invalid_request_body",
        ),
        ({"model": "m", "messages": MESSAGES, "stop": 3}, "stop", "invalid_request_body"),
        ({"model": "m", "messages": MESSAGES, "tools": {}}, "tools", "invalid_request_body"),
        (
            {"model": "m", "messages": MESSAGES, "response_format": "json"},
            "response_format",
            "invalid_request_body",
        ),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(
    body: dict[str, Any], param: str, code: str | None
) -> None:
    with pytest.raises(ChatBodyError) as caught:
        parse_chat_request(body)
    assert caught.value.param == param
    assert caught.value.code == code


def test_shape_error_names_the_nested_field() -> None:
    call = {"function": {"name": ["x"]}}
    body = {"model": "m", "messages": [{"role": "assistant", "tool_calls": [call]}]}
    with pytest.raises(ChatBodyError, match=r"messages\.0\.tool_calls\.0\.function\.name"):
        parse_chat_request(body)


def test_accepted_body_is_the_same_dict_with_unknown_fields_kept() -> None:
    body: dict[str, Any] = {
        "model": "m",
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"a": 1}}}],
            },
        ],
        "new_openai_parameter": {"anything": True},
    }
    parsed = parse_chat_request(body)
    assert parsed is body  # no copy per request
    assert body["new_openai_parameter"] == {"anything": True}


def test_shape_check_alone_needs_no_messages() -> None:
    check_body_shape({"model": "m", "prompt": "legacy"})  # /completions bodies
    with pytest.raises(ChatBodyError):
        check_body_shape({"model": "m", "prompt": "x", "stop": {"a": 1}})
