"""Routes for tests and operators: health, the request log, and scripted replies.

Not recorded and never behind `--require-key`: they are the test's side channel, not upstream API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson
import pydantic

from . import google_oauth
from .exchange import Exchange
from .formats import Route
from .formats.openai_wire import error_body
from .reply import ReplyError
from .scripts import ScriptIn
from .state import UpstreamState

_OK = orjson.dumps({"status": "ok"})


def _query(exchange: Exchange, name: str) -> str | None:
    values = parse_qs(exchange.query).get(name)
    return values[-1] if values else None


async def health(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await exchange.respond(200, _OK)


async def list_requests(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    entries = state.recorder.requests(model=_query(exchange, "model"))
    payload = {"object": "list", "data": [entry.to_json() for entry in entries]}
    await exchange.respond(200, orjson.dumps(payload))


async def clear_requests(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    state.recorder.clear()
    await exchange.respond(200, _OK)


async def add_script(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    try:
        script = ScriptIn.model_validate(body)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}" for err in exc.errors()
        )
        error = ReplyError(400, f"Invalid script: {problems}", "invalid_request_error")
        await exchange.respond(400, error_body(error))
        return
    state.scripts.add_wire(script)
    payload = {"status": "ok", "model": script.model, "pending": state.scripts.pending()}
    await exchange.respond(200, orjson.dumps(payload))


async def clear_scripts(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    state.scripts.clear(_query(exchange, "model"))
    await exchange.respond(200, _OK)


async def add_service_account(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    """Register a Google service account's public key for the fake token endpoint."""
    account = google_oauth.parse_registration(body)
    if isinstance(account, str):
        error = ReplyError(400, f"Invalid service account: {account}", "invalid_request_error")
        await exchange.respond(400, error_body(error))
        return
    state.google.register(account)
    await exchange.respond(200, _OK)


async def google_stats(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await exchange.respond(200, orjson.dumps({"minted": state.google.minted}))


def routes() -> list[Route]:
    def control(method: str, path: str, handler: Any) -> Route:
        return Route(method, path, handler, error_body, authenticated=False, recorded=False)

    return [
        control("GET", "/health", health),
        control("GET", "/__fake__/requests", list_requests),
        control("DELETE", "/__fake__/requests", clear_requests),
        control("POST", "/__fake__/script", add_script),
        control("DELETE", "/__fake__/script", clear_scripts),
        control("POST", "/__fake__/google/service_accounts", add_service_account),
        control("GET", "/__fake__/google/tokens", google_stats),
    ]
