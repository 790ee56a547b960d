"""Azure OpenAI: OpenAI's bodies under `/openai/deployments/{deployment}/...`, which require
`?api-version=` and take the key in an `api-key` header. The deployment name picks the fake's
behaviour (Azure ignores a body `model`).

As Azure does, streams open with a chunk that has no choices but `prompt_filter_results`,
and a content-policy scenario is Azure's `content_filter` error with its `innererror`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import orjson

from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Reply, ReplyError
from ..state import UpstreamState
from ..uploads import Upload
from . import Handler, Route
from .openai import create_embeddings
from .openai_media import create_speech, generate_images, transcriptions, translations
from .openai_requests import parse_chat
from .openai_wire import ChatRenderer, error_body, frame

_FILTER_OK = {
    category: {"filtered": False, "severity": "safe"}
    for category in ("hate", "self_harm", "sexual", "violence")
}


def azure_error_body(error: ReplyError) -> bytes:
    if error.code != "content_policy_violation":
        return error_body(error)
    return orjson.dumps(
        {
            "error": {
                "message": "The response was filtered due to the prompt triggering Azure "
                "OpenAI's content management policy.",
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": {
                        **_FILTER_OK,
                        "violence": {"filtered": True, "severity": "high"},
                    },
                },
            }
        }
    )


def api_key(exchange: Exchange) -> str | None:
    value = exchange.header(b"api-key")
    return value.decode("latin-1") if value is not None else None


class AzureChatRenderer(ChatRenderer):
    def body(self, reply: Reply) -> bytes:
        payload = orjson.loads(super().body(reply))
        payload["prompt_filter_results"] = [
            {"prompt_index": 0, "content_filter_results": _FILTER_OK}
        ]
        for choice in payload["choices"]:
            choice["content_filter_results"] = _FILTER_OK
        return orjson.dumps(payload)

    def frames(self, reply: Reply) -> Iterator[bytes]:
        yield frame(
            {
                "choices": [],
                "created": 0,
                "id": "",
                "model": "",
                "object": "",
                "prompt_filter_results": [
                    {"prompt_index": 0, "content_filter_results": _FILTER_OK}
                ],
            }
        )
        yield from super().frames(reply)

    def error_body(self, error: ReplyError) -> bytes:
        return azure_error_body(error)


def _api_version_missing(exchange: Exchange) -> ReplyError | None:
    if parse_qs(exchange.query).get("api-version"):
        return None
    return ReplyError(
        400,
        "Missing API version parameter: the api-version query parameter (?api-version=) is "
        "required for all requests.",
        "invalid_request_error",
        "MissingApiVersionParameter",
    )


async def chat_completions(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    missing = _api_version_missing(exchange)
    deployment = exchange.path_params["deployment"]
    prompt = missing or parse_chat(
        {**body, "model": deployment} if isinstance(body, dict) else body
    )
    if isinstance(prompt, ReplyError):
        await exchange.respond(prompt.status, azure_error_body(prompt), headers=prompt.headers)
        return
    reply = state.scenario.plan(prompt)
    renderer = AzureChatRenderer(
        state.ids.next("chatcmpl"), int(time.time()), deployment, prompt.include_usage
    )
    await deliver(exchange, reply, renderer, stream=prompt.stream)


async def embeddings(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    missing = _api_version_missing(exchange)
    if missing is not None:
        await exchange.respond(missing.status, error_body(missing))
        return
    deployment = exchange.path_params["deployment"]
    await create_embeddings(
        state, exchange, {**body, "model": deployment} if isinstance(body, dict) else body
    )


def _with_deployment_model(handler: Handler) -> Handler:
    """An OpenAI media handler under Azure's URL: api-version required, the deployment names
    the model (a form's or body's `model` is ignored, as Azure does)."""

    async def handle(state: UpstreamState, exchange: Exchange, body: Any) -> None:
        missing = _api_version_missing(exchange)
        if missing is not None:
            await exchange.respond(missing.status, error_body(missing))
            return
        deployment = exchange.path_params["deployment"]
        if isinstance(body, dict):
            body = {**body, "model": deployment}
        elif isinstance(body, Upload):
            fields = [(k, v) for k, v in body.fields if k != "model"]
            body = Upload([("model", deployment), *fields], body.files)
        await handler(state, exchange, body)

    return handle


def routes() -> list[Route]:
    prefix = "/openai/deployments/{deployment}"
    media = {
        "images/generations": generate_images,
        "audio/speech": create_speech,
        "audio/transcriptions": transcriptions,
        "audio/translations": translations,
    }
    return [
        Route("POST", f"{prefix}/chat/completions", chat_completions, azure_error_body, api_key),
        Route("POST", f"{prefix}/embeddings", embeddings, error_body, api_key),
        *(
            Route("POST", f"{prefix}/{path}", _with_deployment_model(handler), error_body, api_key)
            for path, handler in media.items()
        ),
    ]
