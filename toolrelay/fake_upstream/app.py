"""The fake upstream as one plain ASGI app, built by `FakeUpstream` with all its state."""

from __future__ import annotations

import hmac
import time
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from . import control, errors
from .formats import Route, openai
from .formats.openai_wire import error_body
from .http import Exchange
from .ids import IdSource
from .recorder import RecordedRequest, Recorder
from .scenario import Scenario
from .scripts import ScriptBook
from .state import DEFAULT_MODELS, INVALID_JSON, UpstreamState

# Each wire format contributes its routes; Anthropic, Gemini, Ollama and Azure plug in here.
FORMATS = (openai,)

_VERSION_PREFIX = "/v1"


class FakeUpstream:
    """A scripted LLM upstream: `upstream.app` is the ASGI app, `upstream.recorder` what it saw.

    `require_key` makes every API route (not /health or /__fake__/*) demand
    `Authorization: Bearer <key>`; `record_limit` bounds the request log.
    """

    def __init__(
        self,
        *,
        require_key: str | None = None,
        record_limit: int = 10_000,
        models: tuple[str, ...] = DEFAULT_MODELS,
    ) -> None:
        scripts = ScriptBook()
        ids = IdSource()
        self.state = UpstreamState(
            scenario=Scenario(scripts, ids),
            scripts=scripts,
            recorder=Recorder(record_limit),
            ids=ids,
            require_key=require_key,
            models=models,
        )
        self._expected_auth = f"Bearer {require_key}".encode() if require_key else None
        self._routes: dict[str, dict[str, Route]] = {}
        for route in [*control.routes(), *(r for fmt in FORMATS for r in fmt.routes())]:
            self._routes.setdefault(route.path, {})[route.method] = route

    @property
    def app(self) -> FakeUpstream:
        return self

    @property
    def recorder(self) -> Recorder:
        return self.state.recorder

    @property
    def scripts(self) -> ScriptBook:
        return self.state.scripts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        exchange = Exchange(scope, receive, send)
        path = exchange.path
        if path.startswith(_VERSION_PREFIX + "/"):
            path = path[len(_VERSION_PREFIX) :]
        by_method = self._routes.get(path)
        body = await self._read_json(exchange)
        route = by_method.get(exchange.method) if by_method else None
        if route is None:
            if by_method is None:
                error = errors.unknown_route(exchange.method, exchange.path)
            else:
                error = errors.method_not_allowed(exchange.method, exchange.path)
            await exchange.respond(error.status, error_body(error))
            return
        if route.recorded:
            exchange.record = RecordedRequest(
                exchange.method,
                exchange.path,
                exchange.query,
                scope["headers"],
                None if body is INVALID_JSON else body,
                time.time(),
            )
            self.state.recorder.add(exchange.record)
        if route.authenticated and not self._authorized(exchange):
            error = errors.invalid_api_key()
            await exchange.respond(error.status, route.error_body(error))
            return
        await route.handler(self.state, exchange, body)

    def _authorized(self, exchange: Exchange) -> bool:
        if self._expected_auth is None:
            return True
        given = exchange.header(b"authorization") or b""
        return hmac.compare_digest(given, self._expected_auth)

    @staticmethod
    async def _read_json(exchange: Exchange) -> Any:
        raw = await exchange.read_body()
        if not raw:
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return INVALID_JSON


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
