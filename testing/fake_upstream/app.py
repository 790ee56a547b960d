"""The fake upstream as one plain ASGI app, built by `FakeUpstream` with all its state."""

from __future__ import annotations

import hmac
import time
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from . import control, errors
from .exchange import Exchange
from .formats import (
    anthropic,
    azure,
    bedrock,
    cohere,
    gemini,
    ollama,
    openai,
    openai_extras,
    openai_media,
    openai_responses,
    vertex,
)
from .formats.openai_wire import error_body
from .ids import IdSource
from .recorder import RecordedRequest, Recorder
from .routing import RouteTable
from .scenario import Scenario
from .scripts import ScriptBook
from .state import DEFAULT_MODELS, INVALID_JSON, UpstreamState
from .uploads import Upload, UploadError, is_multipart, parse_upload

# Each wire format contributes its routes; Anthropic, Gemini, Ollama, Azure, Bedrock plug in here.
FORMATS = (
    openai,
    openai_media,
    openai_extras,
    anthropic,
    gemini,
    ollama,
    azure,
    openai_responses,
    vertex,
    cohere,
    bedrock,
)


class FakeUpstream:
    """A scripted LLM upstream: `upstream.app` is the ASGI app, `upstream.recorder` what it saw.

    `require_key` makes every API route (not /health or /__fake__/*) demand that key, in the
    route's format (`Authorization: Bearer KEY` for OpenAI); `record_limit` bounds the log.
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
        self._routes = RouteTable(
            [*control.routes(), *(route for fmt in FORMATS for route in fmt.routes())]
        )

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
        body = await _read_body(exchange)
        match = self._routes.match(exchange.method, exchange.path)
        route = match.route
        if route is None or route.recorded:
            # Requests to unknown routes are recorded too: a test wants to see a wrong path.
            exchange.record = RecordedRequest(
                exchange.method,
                exchange.path,
                exchange.query,
                scope["headers"],
                _recorded_body(body),
                time.time(),
            )
            self.state.recorder.add(exchange.record)
        if route is None:
            if match.allowed:
                error = errors.method_not_allowed(exchange.method, exchange.path)
                allow = ", ".join(match.allowed).encode()
                await exchange.respond(error.status, error_body(error), headers=[(b"allow", allow)])
            else:
                error = errors.unknown_route(exchange.method, exchange.path)
                await exchange.respond(error.status, error_body(error))
            return
        exchange.path_params = match.params
        if route.authenticated and not self._authorized(route.key_from(exchange)):
            error = errors.invalid_api_key()
            await exchange.respond(error.status, route.error_body(error))
            return
        await route.handler(self.state, exchange, body)

    def _authorized(self, given: str | None) -> bool:
        expected = self.state.require_key
        if expected is None:
            return True
        return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def _read_body(exchange: Exchange) -> Any:
    """The JSON body; for `multipart/form-data`, the parsed `Upload` (or the `UploadError`)."""
    raw = await exchange.read_body()
    content_type = exchange.header(b"content-type")
    if content_type is not None and is_multipart(content_type.decode("latin-1")):
        try:
            return parse_upload(content_type.decode("latin-1"), raw)
        except UploadError as exc:
            return exc
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return INVALID_JSON


def _recorded_body(body: Any) -> Any:
    if isinstance(body, Upload):
        return body.summary()
    return None if body is INVALID_JSON or isinstance(body, UploadError) else body


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
