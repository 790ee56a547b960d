"""`/images/generations`, `/audio/speech`, `/audio/transcriptions` and `/audio/translations`.

Each goes through what chat goes through (`InferenceCalls`): authentication, the key's and
team's model access, budgets and rate limits, routing with retries and fallbacks, and one
spend row, priced per image, character or second where the price data says so (see
`gateway.spend.prices`). Providers that cannot do the task answer a 400 `unsupported`.
Speech is relayed to the client as the upstream sends it; nothing is cached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Send

from gateway.context import current_context
from gateway.errors import BadRequestError, GatewayError
from gateway.hooks import CallRecord
from gateway.http_io import JSONResponse
from gateway.media.checks import image_body, speech_body, transcription_body
from gateway.media.forms import read_audio_form
from gateway.media.usage import record_images, record_speech, record_transcription
from gateway.providers.base import JSON, Provider, ProviderCall
from gateway.providers.errors import malformed_response
from gateway.providers.media import (
    Answer,
    AudioForm,
    AudioStream,
    AudioTask,
    ImageProvider,
    SpeechProvider,
    TranscriptionProvider,
)
from gateway.providers.params import GATEWAY_ONLY_FIELDS
from gateway.routes.inference import InferenceCalls
from gateway.state import GatewayState

JSON_TYPE = "application/json"


def unsupported(call: ProviderCall, task: str) -> BadRequestError:
    """The 400 for a deployment whose provider cannot do `task` (also used by `scoring`)."""
    deployment = call.deployment
    return BadRequestError(
        f"{deployment.provider}/{deployment.model} (model={deployment.model_name}) does not "
        f"support {task}; route this model to an openai/, azure/ or OpenAI-compatible "
        "deployment.",
        param="model",
        code="unsupported",
    )


class RelayedAudio(StreamingResponse):
    """Audio relayed as it arrives. An upstream failure after the first byte cannot be told
    in-band, so the response ends without its final message: the server drops the
    connection (one log line, no traceback) and the client sees a truncated body, never a
    short file that looks whole. The failure is in the access log and the spend row."""

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            async for chunk in self.body_iterator:
                assert isinstance(chunk, bytes)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except GatewayError:
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _form_for(call: ProviderCall, form: AudioForm) -> AudioForm:
    """The form as the deployment gets it: its model name, no gateway-only fields."""
    fields = [(k, v) for k, v in form.fields if k not in GATEWAY_ONLY_FIELDS and k != "model"]
    return dataclasses.replace(form, fields=(("model", call.deployment.model), *fields))


def _json_answer(call: ProviderCall, answer: Answer) -> dict[str, Any] | None:
    """The parsed answer when it is JSON (None for text, srt, vtt); broken JSON is a 502."""
    if not answer.content_type.startswith(JSON_TYPE):
        return None
    try:
        parsed = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise malformed_response(call.deployment.provider, "body is not a JSON object")
    return parsed


class MediaRoutes:
    def __init__(self, calls: InferenceCalls) -> None:
        self.calls = calls

    async def images(self, request: Request) -> Response:
        record = await self.calls.begin(request, "image_generation", image_body)

        async def generate(provider: Provider, call: ProviderCall) -> JSON:
            if not isinstance(provider, ImageProvider):
                raise unsupported(call, "image generation")
            return await provider.generate_image(call)

        answer = await self.calls.route(record, generate)
        record_images(record, answer)
        await self.calls.finish(record, None)
        return JSONResponse(answer)

    async def speech(self, request: Request) -> Response:
        record = await self.calls.begin(request, "speech", speech_body)

        async def open_audio(
            provider: Provider, call: ProviderCall
        ) -> tuple[AudioStream, AsyncIterator[bytes], bytes]:
            if not isinstance(provider, SpeechProvider):
                raise unsupported(call, "speech")
            audio = await provider.speech(call)
            chunks = audio.chunks()
            try:
                first = await anext(chunks, b"")  # failures before the first byte can retry
            except BaseException:
                await audio.aclose()
                raise
            return audio, chunks, first

        audio, chunks, first = await self.calls.route(record, open_audio)
        record_speech(record, audio.usage)
        return RelayedAudio(
            self._relay(record, audio, chunks, first), media_type=audio.content_type
        )

    async def _relay(
        self, record: CallRecord, audio: AudioStream, chunks: AsyncIterator[bytes], first: bytes
    ) -> AsyncIterator[bytes]:
        """The audio as it arrives; a failure is recorded, then raised to `RelayedAudio`."""
        error: GatewayError | None = None
        try:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk
        except GatewayError as exc:
            error = exc
            ctx = current_context()
            if ctx is not None:
                ctx.error = f"{type(exc).__name__}: {exc.message}"
            raise
        finally:
            await audio.aclose()
            await self.calls.finish(record, error)

    async def transcriptions(self, request: Request) -> Response:
        return await self._audio(request, "transcriptions")

    async def translations(self, request: Request) -> Response:
        return await self._audio(request, "translations")

    async def _audio(self, request: Request, task: AudioTask) -> Response:
        state = self.calls.state
        principal = await state.authenticator.authenticate(request.headers)
        body, form = await read_audio_form(request, task, state.max_body_bytes)
        record = await self.calls.begin_with_body(
            principal, body, "transcription", transcription_body
        )

        async def upload(
            provider: Provider, call: ProviderCall
        ) -> tuple[Answer, dict[str, Any] | None]:
            if not isinstance(provider, TranscriptionProvider):
                raise unsupported(call, "audio transcription")
            answer = await provider.transcribe(call, _form_for(call, form))
            return answer, _json_answer(call, answer)

        answer, parsed = await self.calls.route(record, upload)
        if parsed is not None:
            record_transcription(record, parsed)
        await self.calls.finish(record, None)
        return Response(answer.body, media_type=answer.content_type)


def routes(state: GatewayState) -> list[Route]:
    handlers = MediaRoutes(InferenceCalls(state))
    table: list[Route] = []
    for prefix in ("/v1", ""):
        table += [
            Route(f"{prefix}/images/generations", handlers.images, methods=["POST"]),
            Route(f"{prefix}/audio/speech", handlers.speech, methods=["POST"]),
            Route(f"{prefix}/audio/transcriptions", handlers.transcriptions, methods=["POST"]),
            Route(f"{prefix}/audio/translations", handlers.translations, methods=["POST"]),
        ]
    return table
