"""Route lookup: exact paths, the optional `/v1` prefix, `{param}` paths, wrong methods."""

from __future__ import annotations

from typing import Any

import httpx

from testing.fake_upstream.exchange import Exchange
from testing.fake_upstream.formats import Route
from testing.fake_upstream.formats.openai_wire import error_body
from testing.fake_upstream.routing import RouteTable
from testing.fake_upstream.state import UpstreamState


async def _nothing(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    return None


def _route(method: str, path: str) -> Route:
    return Route(method, path, _nothing, error_body)


TABLE = RouteTable(
    [
        _route("POST", "/chat/completions"),
        _route("POST", "/openai/deployments/{deployment}/chat/completions"),
        _route("POST", "/v1beta/models/{model}:generateContent"),
    ]
)


def test_exact_path_with_and_without_v1() -> None:
    assert TABLE.match("POST", "/chat/completions").route is not None
    assert TABLE.match("POST", "/v1/chat/completions").route is not None
    assert TABLE.match("POST", "/v2/chat/completions").route is None


def test_path_parameters_are_extracted() -> None:
    azure = TABLE.match("POST", "/openai/deployments/gpt-4o/chat/completions")
    gemini = TABLE.match("POST", "/v1beta/models/gemini-2.0-flash:generateContent")

    assert azure.params == {"deployment": "gpt-4o"}
    assert gemini.params == {"model": "gemini-2.0-flash"}
    assert TABLE.match("POST", "/openai/deployments/a/b/chat/completions").route is None


def test_wrong_method_reports_allowed_methods() -> None:
    match = TABLE.match("GET", "/v1/chat/completions")

    assert match.route is None
    assert match.allowed == ("POST",)


def test_wrong_method_gets_405_and_unknown_path_is_recorded(control: httpx.Client) -> None:
    control.delete("/__fake__/requests")

    wrong_method = control.get("/v1/chat/completions")
    unknown = control.post("/v1/no-such-route", json={"model": "lost"})
    records = control.get("/__fake__/requests").json()["data"]

    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert unknown.status_code == 404
    assert [(r["method"], r["path"], r["status"]) for r in records] == [
        ("GET", "/v1/chat/completions", 405),
        ("POST", "/v1/no-such-route", 404),
    ]
