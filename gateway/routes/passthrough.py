"""`/openai/{path}`, `/anthropic/{path}`, `/gemini/{path}`: LiteLLM's pass-through routes.

The caller authenticates with a virtual key (or the master key) in any header LiteLLM
accepts, or Gemini's `?key=`; a bad key is a 401 before anything goes upstream. The request
runs through the same hooks as `/chat/completions` (model access, budgets, rate limits,
spend, metrics), with the model named in the body (or in Gemini's path) as its model group.
The provider's key replaces the caller's, and the answer is relayed as it arrives, status
and body unchanged, while its usage is read on the way for spend.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator

import httpx
import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.anthropic_api.errors import anthropic_error
from gateway.context import current_context
from gateway.deployments import Deployment
from gateway.errors import BadGatewayError, BadRequestError, GatewayError, RequestTimeoutError
from gateway.hooks import CallRecord, RequestHook
from gateway.http_io import JSONResponse
from gateway.passthrough.targets import PROVIDERS, Provider, Target, resolve
from gateway.passthrough.usage import UsageScanner
from gateway.router import RouterUsageHook
from gateway.state import GatewayState

log = structlog.get_logger("toolrelay.gateway.passthrough")

# Never forwarded either way: hop-by-hop headers, and what the gateway sets itself.
_DROPPED_REQUEST = frozenset(
    {"host", "connection", "content-length", "accept-encoding", "transfer-encoding", "keep-alive"}
)
_DROPPED_RESPONSE = frozenset(
    {"connection", "content-length", "content-encoding", "transfer-encoding", "keep-alive"}
)
_GEMINI_MODEL = re.compile(r"models/([^/:]+)")


def _model(provider: Provider, path: str, body: bytes) -> str:
    if provider.name == "gemini":
        found = _GEMINI_MODEL.search(path)
        if found:
            return found.group(1)
    else:
        try:
            parsed = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("model"), str):
            return str(parsed["model"])
    return f"{provider.name}-passthrough"


class PassThrough:
    def __init__(self, state: GatewayState, provider: Provider, target: Target) -> None:
        self.state = state
        self.provider = provider
        self.target = target
        # Router usage is per deployment of a model group; pass-through calls have neither.
        self.hooks: list[RequestHook] = [
            h for h in state.hooks if not isinstance(h, RouterUsageHook)
        ]

    def _deployment(self, model: str) -> Deployment:
        """The model_list deployment serving this model (for its prices), else one made up for
        the price table."""
        for deployments in self.state.groups.groups.values():
            for deployment in deployments:
                if deployment.provider == self.provider.name and deployment.model == model:
                    return deployment
        return Deployment(
            id=f"passthrough/{self.provider.name}/{model}",
            model_name=model,
            provider=self.provider.name,
            model=model,
        )

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except GatewayError as exc:
            if self.provider.name != "anthropic":
                raise  # the app's handler writes OpenAI's error shape (Gemini's SDK reads it too)
            return JSONResponse(
                anthropic_error(exc), status_code=exc.status_code, headers=exc.headers or None
            )

    async def _handle(self, request: Request) -> Response:
        query = dict(request.query_params)
        headers = dict(request.headers)
        if self.provider.name == "gemini":
            # Gemini clients send their key as `?key=` or `x-goog-api-key`: here, the virtual key
            presented = query.pop("key", None) or headers.get("x-goog-api-key")
            if presented and "authorization" not in headers:
                headers["authorization"] = f"Bearer {presented}"
        principal = await self.state.authenticator.authenticate(headers)
        path = request.path_params["path"]
        body = await request.body()
        model = _model(self.provider, path, body)
        ctx = current_context()
        record = CallRecord(
            request_id=ctx.request_id if ctx else "",
            principal=principal,
            call_type="chat",
            model_group=model,
            body={"model": model},
            stream=False,
            deployment=self._deployment(model),
        )
        if ctx is not None:
            ctx.call = record  # the access log reads key, model and tokens from the record
        ran: list[RequestHook] = []
        try:
            for hook in self.hooks:
                await hook.pre_call(record)
                ran.append(hook)
            upstream = await self._send(request.method, path, query, headers, body)
        except GatewayError as exc:
            await self._finish(record, ran, exc.status_code, type(exc).__name__)
            raise
        content_type = upstream.headers.get("content-type", "")
        scanner = UsageScanner(event_stream=content_type.startswith("text/event-stream"))
        record.stream = scanner.event_stream
        response_headers = {
            k: v for k, v in upstream.headers.items() if k.lower() not in _DROPPED_RESPONSE
        }

        async def relay() -> AsyncIterator[bytes]:
            error: str | None = None
            try:
                async for data in upstream.aiter_raw():
                    scanner.feed(data)
                    yield data
            except httpx.HTTPError as exc:
                error = type(exc).__name__
                log.warning(
                    "pass-through stream broke", provider=self.provider.name, error=repr(exc)
                )
            finally:
                await upstream.aclose()
                scanner.finish()
                record.record_usage(scanner.usage())
                status = upstream.status_code if error is None else 502
                await self._finish(record, ran, status, error)

        return StreamingResponse(
            relay(), status_code=upstream.status_code, headers=response_headers
        )

    async def _send(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        forwarded = {
            k: v
            for k, v in headers.items()
            if k not in _DROPPED_REQUEST and k not in self.provider.client_auth
        }
        forwarded["accept-encoding"] = "identity"  # usage must be readable on the way
        if self.target.api_key:
            forwarded.update(self.provider.auth_headers(self.target.api_key))
        try:
            request = self.state.http.build_request(
                method,
                self.target.url(path),
                params=query,
                headers=forwarded,
                content=body,
                timeout=self.state.timeout_for(None),
            )
        except httpx.InvalidURL as exc:  # e.g. control characters in the path or query
            raise BadRequestError(f"Invalid pass-through URL: {exc}", param="path") from exc
        try:
            return await self.state.http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise RequestTimeoutError(f"{self.provider.name} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise BadGatewayError(f"{self.provider.name} is unreachable: {exc}") from exc

    async def _finish(
        self, record: CallRecord, hooks: list[RequestHook], status: int, error: str | None
    ) -> None:
        record.ended_at = time.time()
        record.http_status = status
        if status >= 400 or error is not None:
            record.status = "failure"
            record.error_type = error or f"upstream {status}"
        for hook in hooks:
            await hook.post_call(record)


def routes(state: GatewayState) -> list[Route]:
    deployments = [d for group in state.groups.groups.values() for d in group]
    table: list[Route] = []
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    for name, provider in PROVIDERS.items():
        handler = PassThrough(state, provider, resolve(provider, os.environ, deployments))
        table.append(Route(f"/{name}/{{path:path}}", handler.handle, methods=methods))
    return table
