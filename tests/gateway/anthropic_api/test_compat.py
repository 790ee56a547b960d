"""What current Anthropic clients send (recorded from Claude Code 2.1.332), normalised and
translated: system-role messages, adaptive thinking and effort, context management, and
fields without a chat translation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway import errors
from gateway.anthropic_api.compat import (
    check_untranslated,
    normalize,
    prepare_for_translation,
    reasoning_effort,
    untranslated_fields,
)
from gateway.anthropic_api.request import chat_request

RECORDED = Path(__file__).parent / "fixtures" / "claude_code_2.1.332_request.json"


def _recorded() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(RECORDED.read_text())["body"]
    return body


def test_claude_code_request_translates_onto_chat() -> None:
    native = normalize(_recorded())
    assert [m["role"] for m in native["messages"]] == ["user"]
    assert native["system"][-1]["text"].startswith("# Environment")
    assert native["system"][-1]["cache_control"] == {"type": "ephemeral"}

    body = chat_request(prepare_for_translation(native))
    system, user = body["messages"]
    assert system["role"] == "system"
    assert system["content"].startswith("x-anthropic-billing-header")
    assert system["content"].endswith(native["system"][-1]["text"])
    assert user["role"] == "user" and user["content"].endswith("Say hi")
    assert body["reasoning_effort"] == "high"
    assert body["max_tokens"] == 32000 and body["stream"] is True
    names = [t["function"]["name"] for t in body["tools"]]
    assert "DeferredToolPlaceholder" in names and "Write" in names
    assert "defer_loading" not in json.dumps(body["tools"])
    # Nothing Claude Code sends is left without a translation.
    assert untranslated_fields(native) == []


def test_system_messages_join_a_string_system_in_order() -> None:
    native = normalize(
        {
            "system": "first",
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "system", "content": "second"},
                {"role": "system", "content": [{"type": "text", "text": "third"}]},
            ],
        }
    )
    assert [b["text"] for b in native["system"]] == ["first", "second", "third"]
    assert native["messages"] == [{"role": "user", "content": "q"}]


@pytest.mark.parametrize(
    ("native", "message"),
    [
        ({"messages": [{"role": "system", "content": [{"type": "image"}]}]}, "system message"),
        ({"messages": [], "thinking": {"type": "sometimes"}}, "thinking.type"),
        ({"messages": [], "output_config": {"effort": "extreme"}}, "output_config.effort"),
        ({"messages": [], "output_config": "high"}, "output_config"),
        ({"messages": [], "output_config": {"format": {"type": "xml"}}}, "output_config.format"),
        ({"messages": [], "context_management": {"edits": "all"}}, "context_management"),
    ],
)
def test_malformed_newer_fields_are_refused(native: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.BadRequestError) as raised:
        normalize(native)
    assert message in raised.value.message


@pytest.mark.parametrize(
    ("native", "effort"),
    [
        ({"thinking": {"type": "adaptive"}}, None),  # the model decides
        ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}, "high"),
        ({"output_config": {"effort": "low"}}, "low"),
        ({"thinking": {"type": "disabled"}, "output_config": {"effort": "high"}}, None),
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}}, "low"),
        ({"thinking": {"type": "enabled", "budget_tokens": 4096}}, "medium"),
        ({"thinking": {"type": "enabled", "budget_tokens": 16000}}, "high"),
    ],
)
def test_reasoning_effort(native: dict[str, Any], effort: str | None) -> None:
    assert reasoning_effort(native) == effort


def _turn(thought: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": thought, "signature": "s"},
            {"type": "text", "text": "answer"},
        ],
    }


def test_clear_thinking_edit_keeps_the_last_turns() -> None:
    native = {
        "messages": [
            {"role": "user", "content": "a"},
            _turn("one"),
            {"role": "user", "content": "b"},
            _turn("two"),
            {"role": "user", "content": "c"},
        ],
        "context_management": {
            "edits": [
                {"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns", "value": 1}}
            ]
        },
    }
    out = prepare_for_translation(native)
    assert "context_management" not in out
    assert out["messages"][1]["content"] == [{"type": "text", "text": "answer"}]
    assert out["messages"][3] == _turn("two")
    # "keep": "all" (Claude Code's setting) changes nothing.
    native["context_management"] = {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}
    assert prepare_for_translation(native)["messages"] == native["messages"]


def test_fields_without_translation_follow_drop_params() -> None:
    native = {"model": "m", "messages": [], "container": "c1", "mcp_servers": []}
    assert untranslated_fields(native) == ["container", "mcp_servers"]
    assert "container" not in prepare_for_translation(native)
    check_untranslated(["container"], drop_params=True, provider="openai")
    with pytest.raises(errors.BadRequestError) as raised:
        check_untranslated(["container"], drop_params=False, provider="openai")
    assert "drop_params" in raised.value.message and raised.value.param == "container"
