"""OpenAI's media endpoints: image generation, speech, transcription and translation.

    POST /images/generations      JSON in; `data` of `url`s (served at /__fake__/images/...)
                                  or `b64_json` 1x1 PNGs; `gpt-image-*` models add `usage`
    POST /audio/speech            JSON in; silent mp3 / wav / pcm out, sent in pieces
    POST /audio/transcriptions    multipart upload; json, verbose_json, text, srt or vtt
    POST /audio/translations      the same, task `translate`

The model name picks errors, latency and faults as for chat (`error-500`, `latency-50`, ...).
Transcription models named `gpt-4o*` report token usage; others report seconds of audio.
A WAV upload is measured from its header; any other file counts as 24 kHz 16-bit PCM.
Azure's `/openai/deployments/{deployment}/...` spellings live in `azure_media`.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Iterator
from typing import Any

import orjson

from .. import errors, media_files
from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Reply, ReplyError, estimate_tokens
from ..state import UpstreamState
from ..uploads import Upload, UploadError
from . import Route
from .openai_wire import error_body

IMAGE_PATH = "/__fake__/images/pixel.png"
MAX_IMAGES = 10
SPEECH_CHARS_PER_SECOND = 15.0
SPEECH_PIECE = 4096
IMAGE_OUTPUT_TOKENS = 272  # gpt-image-1, 1024x1024, low quality
AUDIO_TOKENS_PER_SECOND = 10
TRANSCRIPTION_FORMATS = ("json", "verbose_json", "text", "srt", "vtt")
TEXT_TYPE = b"text/plain; charset=utf-8"
ErrorBody = Any


class _Fixed:
    """A renderer for an answer computed up front; streamed in pieces when sent as a stream."""

    def __init__(self, body: bytes, errors_as: ErrorBody = error_body) -> None:
        self._body = body
        self._error_body = errors_as

    def body(self, reply: Reply) -> bytes:
        return self._body

    def frames(self, reply: Reply) -> Iterator[bytes]:
        for start in range(0, len(self._body), SPEECH_PIECE):
            yield self._body[start : start + SPEECH_PIECE]

    def error_body(self, error: ReplyError) -> bytes:
        return bytes(self._error_body(error))

    def malformed_body(self) -> bytes:
        return b'{"created": 1, "data": [{"b64_json": "'

    def malformed_frame(self) -> bytes:
        return self.malformed_body()


async def answer(
    state: UpstreamState,
    exchange: Exchange,
    model: str,
    body: bytes,
    content_type: bytes = b"application/json",
    errors_as: ErrorBody = error_body,
) -> None:
    """Send `body`, unless the model name asks for an error, a delay or a fault first."""
    behaviour = state.scenario.behaviour(model)
    reply = Reply(error=behaviour.error, timing=behaviour.timing, fault=behaviour.fault)
    renderer = _Fixed(body, errors_as)
    if content_type == b"application/json":
        await deliver(exchange, reply, renderer, stream=False)
    else:
        await deliver(exchange, reply, renderer, stream=True, stream_content_type=content_type)


async def reject(exchange: Exchange, error: ReplyError, errors_as: ErrorBody = error_body) -> None:
    await exchange.respond(error.status, errors_as(error), headers=error.headers)


def _json_object(body: Any) -> dict[str, Any] | ReplyError:
    return body if isinstance(body, dict) else errors.invalid_json()


def _model(body: dict[str, Any]) -> str | ReplyError:
    model = body.get("model")
    return model if isinstance(model, str) and model else errors.missing_parameter("model")


def image_answer(exchange: Exchange, body: dict[str, Any], model: str) -> bytes | ReplyError:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        return errors.missing_parameter("prompt")
    count = body.get("n", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_IMAGES:
        return errors.invalid_parameter("n", f"n must be an integer from 1 to {MAX_IMAGES}.")
    token_priced = model.startswith("gpt-image")
    default_format = "b64_json" if token_priced else "url"
    response_format = body.get("response_format") or default_format
    if response_format not in ("url", "b64_json"):
        return errors.invalid_parameter(
            "response_format", "response_format must be 'url' or 'b64_json'."
        )
    if response_format == "url":
        host = (exchange.header(b"host") or b"127.0.0.1").decode("latin-1")
        image: dict[str, Any] = {"url": f"http://{host}{IMAGE_PATH}"}
    else:
        image = {"b64_json": base64.b64encode(media_files.PNG).decode()}
    if model.startswith("dall-e-3"):
        image["revised_prompt"] = prompt
    answer: dict[str, Any] = {"created": int(time.time()), "data": [image] * count}
    if token_priced:
        text_tokens = estimate_tokens(len(prompt))
        output_tokens = IMAGE_OUTPUT_TOKENS * count
        answer["usage"] = {
            "input_tokens": text_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": 0},
            "output_tokens": output_tokens,
            "total_tokens": text_tokens + output_tokens,
        }
    return orjson.dumps(answer)


async def generate_images(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    parsed = _json_object(body)
    model = parsed if isinstance(parsed, ReplyError) else _model(parsed)
    if isinstance(model, ReplyError):
        await reject(exchange, model)
        return
    assert isinstance(parsed, dict)
    rendered = image_answer(exchange, parsed, model)
    if isinstance(rendered, ReplyError):
        await reject(exchange, rendered)
        return
    await answer(state, exchange, model, rendered)


def speech_answer(body: dict[str, Any]) -> tuple[bytes, bytes] | ReplyError:
    """(content type, audio) for a speech request."""
    text = body.get("input")
    if not isinstance(text, str) or not text:
        return errors.missing_parameter("input")
    if not body.get("voice"):
        return errors.missing_parameter("voice")
    response_format = body.get("response_format") or "mp3"
    content_type = media_files.SPEECH_CONTENT_TYPES.get(response_format)
    if content_type is None:
        return errors.invalid_parameter(
            "response_format",
            "The fake upstream speaks mp3, wav and pcm; "
            f"response_format {response_format!r} is not one of them.",
        )
    seconds = max(0.1, len(text) / SPEECH_CHARS_PER_SECOND)
    return content_type.encode(), media_files.speech(response_format, seconds)


async def create_speech(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    parsed = _json_object(body)
    model = parsed if isinstance(parsed, ReplyError) else _model(parsed)
    if isinstance(model, ReplyError):
        await reject(exchange, model)
        return
    assert isinstance(parsed, dict)
    rendered = speech_answer(parsed)
    if isinstance(rendered, ReplyError):
        await reject(exchange, rendered)
        return
    content_type, audio = rendered
    await answer(state, exchange, model, audio, content_type)


def not_a_form(body: Any) -> ReplyError | None:
    if isinstance(body, Upload):
        return None
    if isinstance(body, UploadError):
        return ReplyError(400, f"Invalid multipart form: {body}", "invalid_request_error")
    return ReplyError(
        400,
        "Invalid Content-Type header, expected multipart/form-data.",
        "invalid_request_error",
    )


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def transcription_answer(upload: Upload, model: str, task: str) -> tuple[bytes, bytes] | ReplyError:
    """(content type, body) for a transcription (`task` transcribe) or translation."""
    audio = upload.file("file")
    if audio is None:
        return errors.missing_parameter("file")
    if not audio.data:
        return errors.invalid_parameter("file", "The uploaded file is empty.")
    response_format = upload.get("response_format") or "json"
    if response_format not in TRANSCRIPTION_FORMATS:
        return errors.invalid_parameter(
            "response_format", f"response_format must be one of {', '.join(TRANSCRIPTION_FORMATS)}."
        )
    seconds = media_files.wav_seconds(audio.data)
    if seconds is None:
        seconds = len(audio.data) / (media_files.SAMPLE_RATE * media_files.SAMPLE_BYTES)
    text = f"The fake upstream heard {seconds:.2f} seconds of {audio.filename}."
    if response_format == "text":
        return TEXT_TYPE, text.encode() + b"\n"
    if response_format == "srt":
        cue = f"1\n{_timestamp(0, ',')} --> {_timestamp(seconds, ',')}\n{text}\n\n"
        return TEXT_TYPE, cue.encode()
    if response_format == "vtt":
        cue = f"WEBVTT\n\n{_timestamp(0, '.')} --> {_timestamp(seconds, '.')}\n{text}\n\n"
        return TEXT_TYPE, cue.encode()
    payload: dict[str, Any] = {"text": text}
    if response_format == "verbose_json":
        payload = {
            "task": task,
            "language": "english" if task == "translate" else upload.get("language") or "english",
            "duration": seconds,
            "text": text,
            "segments": [_segment(text, seconds)],
        }
        if "word" in [v for k, v in upload.fields if k == "timestamp_granularities[]"]:
            payload["words"] = _words(text, seconds)
    if task == "transcribe":
        payload["usage"] = _transcription_usage(model, seconds, upload.get("prompt"), text)
    return b"application/json", orjson.dumps(payload)


def _segment(text: str, seconds: float) -> dict[str, Any]:
    return {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": seconds,
        "text": text,
        "tokens": list(range(50364, 50364 + len(text.split()))),
        "temperature": 0.0,
        "avg_logprob": -0.1,
        "compression_ratio": 1.0,
        "no_speech_prob": 0.0,
    }


def _words(text: str, seconds: float) -> list[dict[str, Any]]:
    words = text.split()
    step = seconds / len(words)
    return [
        {"word": word, "start": index * step, "end": (index + 1) * step}
        for index, word in enumerate(words)
    ]


def _transcription_usage(
    model: str, seconds: float, prompt: str | None, text: str
) -> dict[str, Any]:
    if not model.startswith("gpt-4o"):
        return {"type": "duration", "seconds": math.ceil(seconds)}
    audio_tokens = max(1, math.ceil(seconds * AUDIO_TOKENS_PER_SECOND))
    text_tokens = estimate_tokens(len(prompt)) if prompt else 0
    output_tokens = estimate_tokens(len(text))
    return {
        "type": "tokens",
        "input_tokens": audio_tokens + text_tokens,
        "input_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
        "output_tokens": output_tokens,
        "total_tokens": audio_tokens + text_tokens + output_tokens,
    }


async def _transcribe(state: UpstreamState, exchange: Exchange, body: Any, task: str) -> None:
    problem = not_a_form(body)
    if problem is not None:
        await reject(exchange, problem)
        return
    assert isinstance(body, Upload)
    model = body.get("model")
    if not model:
        await reject(exchange, errors.missing_parameter("model"))
        return
    rendered = transcription_answer(body, model, task)
    if isinstance(rendered, ReplyError):
        await reject(exchange, rendered)
        return
    content_type, payload = rendered
    await answer(state, exchange, model, payload, content_type)


async def transcriptions(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await _transcribe(state, exchange, body, "transcribe")


async def translations(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await _transcribe(state, exchange, body, "translate")


async def image_file(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await exchange.respond(200, media_files.PNG, content_type=b"image/png")


def routes() -> list[Route]:
    return [
        Route("POST", "/images/generations", generate_images, error_body),
        Route("POST", "/audio/speech", create_speech, error_body),
        Route("POST", "/audio/transcriptions", transcriptions, error_body),
        Route("POST", "/audio/translations", translations, error_body),
        Route("GET", IMAGE_PATH, image_file, error_body, authenticated=False, recorded=False),
    ]
