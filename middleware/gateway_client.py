"""The one pooled HTTP client to the gateway: chat (whole or streamed), models, key info.

Transport errors and error statuses are mapped here, once, to `GatewayHTTPError`. A whole
answer is read into the contract's `ChatCompletion` here too (`_completion`); streamed chunks
are parsed JSON objects that `StreamAccumulator` reads.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncGenerator
from typing import cast

import httpx
import orjson

from common.aiohttp_transport import AiohttpTransport, DirectClient
from common.chat import ChatCompletion, ChatRequest
from common.tracing import TraceHeaderWriter, active_settings
from middleware.context import REQUEST_ID_HEADER, current_request_id
from middleware.errors import GatewayHTTPError, GatewayUnreachable
from middleware.tracing import ModelCallTracing
from middleware.usage import read_usage

WireObject = dict[str, object]  # parsed, not yet checked


def _error_body(response: httpx.Response) -> WireObject:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body
    text = response.text[:500] or response.reason_phrase
    return {"error": {"message": text, "type": "api_error", "param": None, "code": None}}


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        client: httpx.AsyncClient | None = None,
        verify: ssl.SSLContext | None = None,
    ):
        """`verify`: TLS verification of an https gateway_url (None: the system's CAs).

        Each call carries the trace context on to the gateway (`traceparent`), when tracing
        is on: our own transport writes it into the request as it goes out; into the
        request's headers for a `client` given here."""
        self.base_url = base_url.rstrip("/")
        trace_headers = TraceHeaderWriter() if active_settings() is not None else None
        self._trace_headers = trace_headers if client is not None else None
        self._http = client or DirectClient(
            AiohttpTransport(
                max_connections=512,
                default_ssl=verify if verify is not None else True,
                stamp_headers=trace_headers,
            ),
            httpx.Timeout(timeout, connect=10.0),
        )
        # parsed once: httpx would parse the string again for every call
        self._chat_url = httpx.URL(f"{self.base_url}/v1/chat/completions")
        self._model_calls = ModelCallTracing()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _headers(self, authorization: str | None) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if authorization:
            headers["authorization"] = authorization
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        if self._trace_headers is not None:
            self._trace_headers(headers)
        return headers

    async def _send(
        self,
        method: str,
        url: str | httpx.URL,
        authorization: str | None,
        body: ChatRequest | None = None,
    ) -> httpx.Response:
        try:
            return await self._http.request(
                method,
                url,
                content=orjson.dumps(body) if body is not None else None,
                headers=self._headers(authorization),
            )
        except httpx.TimeoutException as exc:
            raise GatewayUnreachable(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise GatewayUnreachable(f"{type(exc).__name__}: {exc}") from exc

    async def chat(self, body: ChatRequest, authorization: str | None) -> ChatCompletion:
        with self._model_calls.span(body) as span:
            data = await self._chat(body, authorization)
            self._model_calls.record(span, data)
            return _completion(data)

    async def _chat(self, body: ChatRequest, authorization: str | None) -> WireObject:
        response = await self._send("POST", self._chat_url, authorization, body)
        if response.status_code >= 400:
            raise GatewayHTTPError(response.status_code, _error_body(response))
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise GatewayHTTPError(
                502,
                {"error": {"message": "gateway answered invalid JSON", "type": "api_error"}},
            ) from None
        if not isinstance(data, dict):
            raise GatewayHTTPError(
                502, {"error": {"message": "gateway answered a non-object", "type": "api_error"}}
            )
        return data

    async def chat_stream(
        self, body: ChatRequest, authorization: str | None
    ) -> AsyncGenerator[WireObject, None]:
        """The chunks of a `stream=true` call, parsed, as they arrive. An error status before
        the stream is a `GatewayHTTPError`; an error event inside it is one too (status 502
        unless the event names one); a broken connection is `GatewayUnreachable`."""
        url = self._chat_url
        # the span's summary: what a whole response would say (model, id, finish, usage)
        summary: WireObject = {"choices": []}
        try:
            with self._model_calls.span(body) as span:
                async with self._http.stream(
                    "POST", url, content=orjson.dumps(body), headers=self._headers(authorization)
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise GatewayHTTPError(response.status_code, _error_body(response))
                    async for line in response.aiter_lines():
                        if not line.startswith("data:"):
                            continue  # blank separators, SSE comments, `event:` lines
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        chunk = _stream_event(data)
                        _summarise(summary, chunk)
                        yield chunk
                self._model_calls.record(span, summary)
        except httpx.TimeoutException as exc:
            raise GatewayUnreachable(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise GatewayUnreachable(f"{type(exc).__name__}: {exc}") from exc

    async def get_raw(self, path: str, authorization: str | None) -> httpx.Response:
        """A GET whose answer is passed through as is (`/v1/models`, `/key/info`)."""
        return await self._send("GET", f"{self.base_url}{path}", authorization)

    async def reachable(self) -> bool:
        try:
            response = await self._http.get(f"{self.base_url}/health/liveliness", timeout=3.0)
        except httpx.TransportError:
            return False
        return response.status_code < 500


def _summarise(summary: WireObject, chunk: WireObject) -> None:
    for key in ("id", "model", "usage"):
        if chunk.get(key) is not None:
            summary[key] = chunk[key]
    choices = chunk.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        if isinstance(choice, dict) and choice.get("finish_reason"):
            summary["choices"] = [{"finish_reason": choice["finish_reason"]}]


def _stream_event(data: str) -> WireObject:
    try:
        event = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise GatewayHTTPError(
            502, {"error": {"message": "gateway streamed invalid JSON", "type": "api_error"}}
        ) from None
    if not isinstance(event, dict):
        raise GatewayHTTPError(
            502, {"error": {"message": "gateway streamed a non-object", "type": "api_error"}}
        )
    error = event.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        status = (
            int(code)
            if isinstance(code, int) or (isinstance(code, str) and code.isdigit())
            else 502
        )
        raise GatewayHTTPError(status if 400 <= status <= 599 else 502, {"error": error})
    return event


def _completion(data: WireObject) -> ChatCompletion:
    """A whole answer as the contract's `chat.completion`, for the loop to read.

    The gateway relays OpenAI-compatible upstreams as they answer, so what the loop reads is
    checked here and an upstream's quirk is put in shape in place: no usable first choice is
    an empty answer; a tool call without an id gets an empty one (the loop names it);
    arguments sent as an object become their JSON text; content sent as a list of parts
    becomes their text. Everything else (the envelope, unknown fields) is relayed as it came.
    """
    choices = data.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(first, dict) or not isinstance(message, dict):
        data["choices"] = []
    else:
        if not isinstance(first.get("finish_reason"), str):
            first["finish_reason"] = None
        _shape_message(message)
    usage = read_usage(data.get("usage"))
    if usage is None:
        data.pop("usage", None)
    else:
        data["usage"] = usage
    return cast(ChatCompletion, data)  # checked above, as far as the loop reads it


def _shape_message(message: WireObject) -> None:
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        parts = content if isinstance(content, list) else ()
        message["content"] = "".join(
            str(part["text"])
            for part in parts
            if isinstance(part, dict) and part.get("type") == "text" and "text" in part
        )
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        message.pop("tool_calls", None)
        return
    shaped = [call for call in calls if isinstance(call, dict)]
    for call in shaped:
        if not isinstance(call.get("id"), str):
            call["id"] = ""
        if not isinstance(call.get("type"), str):
            call["type"] = "function"
        function = call.get("function")
        if not isinstance(function, dict):
            function = call["function"] = {}
        if not isinstance(function.get("name"), str):
            function["name"] = ""
        arguments = function.get("arguments")
        if arguments is None:
            function["arguments"] = ""
        elif not isinstance(arguments, str):
            function["arguments"] = orjson.dumps(arguments).decode()
    if len(shaped) != len(calls):
        message["tool_calls"] = shaped
