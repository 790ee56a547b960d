"""Hypothesis against the pure translators and the config loader: for any JSON-shaped input
they either translate or raise the gateway's typed errors (mapped to 4xx/502), never a stray
KeyError/TypeError (a 500), and the config loader only ever raises ConfigError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.anthropic_api import request as anthropic_in
from gateway.config.loader import ConfigError, config_from_mapping
from gateway.errors import GatewayError
from gateway.providers import (
    anthropic_request,
    anthropic_response,
    gemini_request,
    gemini_response,
    ollama_translate,
)
from gateway.providers.errors import upstream_shape
from gateway.request_checks import chat_request
from gateway.token_counting.local import count_locally

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
KEYS = [
    "role",
    "content",
    "type",
    "text",
    "image_url",
    "url",
    "tool_calls",
    "function",
    "name",
    "arguments",
    "id",
    "tool_call_id",
    "parts",
    "candidates",
    "usage",
    "message",
    "choices",
    "finish_reason",
    "stop_reason",
    "input_schema",
    "parameters",
    "tools",
    "tool_use",
    "input",
    "source",
    "data",
    "media_type",
    "system",
    "stop",
    "max_tokens",
    "usageMetadata",
    "functionCall",
    "inlineData",
    "done_reason",
    "prompt_eval_count",
    "eval_count",
    "model",
]
# Dictionaries built from the field names the translators read, so the fuzz reaches deep code.
shaped = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)
    ),
    max_leaves=30,
)
bodies = st.fixed_dictionaries(
    {"messages": st.lists(shaped, max_size=4)},
    optional={
        "tools": st.lists(shaped, max_size=3),
        "tool_choice": shaped,
        "stop": shaped,
        "max_tokens": shaped,
        "response_format": shaped,
        "temperature": shaped,
    },
)

TRANSLATORS: dict[str, Callable[[Any], Any]] = {
    "anthropic_request": lambda b: anthropic_request.messages_request(b, "m", drop_params=True),
    "gemini_request": lambda b: gemini_request.generate_request(b, drop_params=True),
    "ollama_request": lambda b: ollama_translate.chat_request(
        b, "m", stream=False, drop_params=True
    ),
}


# Native Anthropic bodies (`/v1/messages`) are translated before the OpenAI shape check.
def _validated_count(native: Any) -> int:
    # the route validates and translates first, then counts the chat body locally
    return count_locally("claude-x", anthropic_in.chat_request(native)).total


NATIVE: dict[str, Callable[[Any], Any]] = {
    "anthropic_api_request": anthropic_in.chat_request,
    "anthropic_api_count_tokens": _validated_count,
}


def _at_the_boundary(provider: str, translate: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """How each provider runs its response translator: inside `upstream_shape`, which makes
    a body of the wrong shape a 502 naming the provider."""

    def run(response: Any) -> Any:
        with upstream_shape(provider):
            return translate(response)

    return run


RESPONSES: dict[str, Callable[[Any], Any]] = {
    "gemini_response": _at_the_boundary(
        "gemini", lambda r: gemini_response.chat_completion(r, "m")
    ),
    "anthropic_response": _at_the_boundary(
        "anthropic", lambda r: anthropic_response.chat_completion(r, json_mode=False)
    ),
    "ollama_response": _at_the_boundary(
        "ollama", lambda r: ollama_translate.chat_completion(r, "m")
    ),
}


def _translate_or_typed_error(translate: Callable[[Any], Any], value: Any) -> None:
    try:
        translate(value)
    except GatewayError as exc:
        assert 400 <= exc.status_code < 600 and exc.status_code != 500


def _shape_checked_then(translate: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def run(body: Any) -> Any:
        return translate(chat_request(body))  # the chat route parses before any translator

    return run


@pytest.mark.parametrize("name", sorted(TRANSLATORS))
def test_request_translators_never_crash_on_shape_checked_bodies(name: str) -> None:
    @FUZZ
    @given(body=bodies | st.dictionaries(st.sampled_from(KEYS), shaped, max_size=6))
    def run(body: dict[str, Any]) -> None:
        _translate_or_typed_error(_shape_checked_then(TRANSLATORS[name]), body)

    run()


@pytest.mark.parametrize("name", sorted(NATIVE))
def test_native_anthropic_translator_never_crashes(name: str) -> None:
    @FUZZ
    @given(body=bodies | st.dictionaries(st.sampled_from(KEYS), shaped, max_size=6))
    def run(body: dict[str, Any]) -> None:
        _translate_or_typed_error(NATIVE[name], body)

    run()


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_response_translators_never_crash(name: str) -> None:
    @FUZZ
    @given(response=st.dictionaries(st.sampled_from(KEYS), shaped, max_size=6))
    def run(response: dict[str, Any]) -> None:
        _translate_or_typed_error(RESPONSES[name], response)

    run()


SECTIONS = [
    "model_list",
    "router_settings",
    "litellm_settings",
    "general_settings",
    "mcp_servers",
    "middleware_settings",
    "storage",
    "environment_variables",
]


@FUZZ
@given(raw=json_values | st.dictionaries(st.sampled_from(SECTIONS), json_values, max_size=5))
def test_config_loader_raises_only_config_errors(raw: Any) -> None:
    try:
        config_from_mapping(raw, environ={})
    except ConfigError as exc:
        assert "<config>" in str(exc)
