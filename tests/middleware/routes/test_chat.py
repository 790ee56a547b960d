"""A malformed chat body is an OpenAI-shaped 400 naming the field, answered before any
gateway call (the gateway here does not exist: a call would be a 502)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from common.config import document_from_mapping
from middleware.app import create_app
from middleware.settings import settings_from_config

USER = {"role": "user", "content": "hi"}


def app() -> Starlette:
    config = document_from_mapping(
        {"middleware_settings": {"gateway_url": "http://gw.invalid"}}, environ={}
    )
    return create_app(settings_from_config(config), public_url="http://127.0.0.1:4001")


MALFORMED: list[tuple[dict[str, Any], str]] = [
    ({"messages": [USER]}, "model"),
    ({"model": "m", "messages": []}, "messages"),
    ({"model": "m", "messages": "hi"}, "messages"),
    ({"model": "m", "messages": [{"content": "no role"}]}, "messages[0]"),
    ({"model": "m", "messages": [USER], "tools": "all of them"}, "tools"),
    ({"model": "m", "messages": [USER], "tools": [{"function": "now"}]}, "tools"),
    ({"model": "m", "messages": [{"role": "user", "content": [{"text": 5}]}]}, "messages"),
    (
        {
            "model": "m",
            "messages": [
                USER,
                {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": 7}}]},
            ],
        },
        "messages",
    ),
    ({"model": "m", "messages": [USER], "stop": 3}, "stop"),
    ({"model": "m", "messages": [USER], "stream": True, "tool_choice": 1}, "tool_choice"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("body", "param"), MALFORMED)
async def test_a_malformed_body_is_a_400_naming_the_field(body: dict[str, Any], param: str) -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://middleware") as client:
        response = await client.post(
            "/v1/chat/completions", json=body, headers={"authorization": "Bearer sk-1"}
        )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["message"]


@pytest.mark.anyio
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
async def test_a_body_that_is_not_a_json_object_is_a_400(raw: bytes) -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://middleware") as client:
        response = await client.post("/v1/chat/completions", content=raw)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
