"""Gemini's image and speech answers: `generateContent` with `responseModalities` IMAGE or
AUDIO (checked in `gemini_wire`).

An image answer is a 1x1 PNG as an `inlineData` part (after a short text part when TEXT was
asked for too), with the 1290 output tokens Gemini reports per image; a speech answer is a
440 Hz tone as `audio/L16;codec=pcm;rate=24000`, one second per 15 characters, at 32 tokens a
second. A content-policy scenario is a candidate with no parts and a safety `finishReason`.
Imagen's `:predict` answers `sampleCount` PNGs as `predictions` (no usage, as the API reports
none).
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from .. import media_files
from ..reply import estimate_tokens
from .gemini_wire import GeminiRequest, MediaOutput

IMAGE_TOKENS = 1290  # what Gemini reports for one image up to 1024x1024
AUDIO_TOKENS_PER_SECOND = 32
SPEECH_CHARS_PER_SECOND = 15.0
PCM_TYPE = f"audio/L16;codec=pcm;rate={media_files.SAMPLE_RATE}"
IMAGE_CAPTION = "Here is the image you asked for."


def _inline(mime_type: str, data: bytes) -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime_type, "data": base64.b64encode(data).decode()}}


def _answer(
    model: str, response_id: str, parts: list[dict[str, Any]], finish: str, usage: dict[str, Any]
) -> bytes:
    return orjson.dumps(
        {
            "candidates": [
                {"content": {"parts": parts, "role": "model"}, "finishReason": finish, "index": 0}
            ],
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": response_id,
        }
    )


def _usage(prompt_tokens: int, output: dict[str, int]) -> dict[str, Any]:
    total_output = sum(output.values())
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": total_output,
        "totalTokenCount": prompt_tokens + total_output,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        "candidatesTokensDetails": [
            {"modality": modality, "tokenCount": count} for modality, count in output.items()
        ],
    }


def media_body(request: GeminiRequest, media: MediaOutput, response_id: str) -> bytes:
    prompt = request.prompt
    prompt_tokens = estimate_tokens(prompt.prompt_chars)
    if "AUDIO" in media.modalities:
        seconds = max(0.1, len(prompt.last_user_text) / SPEECH_CHARS_PER_SECOND)
        audio_tokens = max(1, round(seconds * AUDIO_TOKENS_PER_SECOND))
        parts = [_inline(PCM_TYPE, media_files.pcm_tone(seconds))]
        usage = _usage(prompt_tokens, {"AUDIO": audio_tokens})
        return _answer(prompt.model, response_id, parts, "STOP", usage)
    parts, output = [], {"IMAGE": IMAGE_TOKENS}
    if "TEXT" in media.modalities:
        parts.append({"text": IMAGE_CAPTION})
        output = {"TEXT": estimate_tokens(len(IMAGE_CAPTION)), **output}
    parts.append(_inline("image/png", media_files.PNG))
    return _answer(prompt.model, response_id, parts, "STOP", _usage(prompt_tokens, output))


def refused_body(media: MediaOutput, prompt_tokens: int) -> bytes:
    finish = "SAFETY" if "AUDIO" in media.modalities else "IMAGE_SAFETY"
    usage = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens}
    return orjson.dumps(
        {
            "candidates": [{"content": {"role": "model"}, "finishReason": finish, "index": 0}],
            "usageMetadata": usage,
        }
    )


IMAGEN_PARAMETERS = frozenset(
    {"sampleCount", "aspectRatio", "personGeneration", "imageSize", "outputOptions"}
)
IMAGEN_ASPECT_RATIOS = frozenset({"1:1", "3:4", "4:3", "9:16", "16:9"})
MAX_IMAGEN_SAMPLES = 4


def imagen_count(model: str, body: Any) -> int | str:
    """The number of images an Imagen `:predict` asks for, or what is wrong with it."""
    if not model.startswith("imagen-"):
        return (
            f"models/{model} is not found for API version v1beta, or is not supported for predict"
        )
    if not isinstance(body, dict) or set(body) - {"instances", "parameters"}:
        return "Invalid JSON payload received: only instances and parameters are allowed"
    instances = body.get("instances")
    if (
        not isinstance(instances, list)
        or len(instances) != 1
        or not isinstance(instances[0], dict)
        or not isinstance(instances[0].get("prompt"), str)
        or not instances[0]["prompt"]
    ):
        return "instances: exactly one instance with a non-empty prompt is required"
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict) or set(parameters) - IMAGEN_PARAMETERS:
        return f"parameters: only {', '.join(sorted(IMAGEN_PARAMETERS))} are allowed"
    ratio = parameters.get("aspectRatio")
    if ratio is not None and ratio not in IMAGEN_ASPECT_RATIOS:
        return f"parameters.aspectRatio: unsupported value {ratio!r}"
    count = parameters.get("sampleCount", 4)
    if (
        not isinstance(count, int)
        or isinstance(count, bool)
        or not 1 <= count <= MAX_IMAGEN_SAMPLES
    ):
        return f"parameters.sampleCount: must be from 1 to {MAX_IMAGEN_SAMPLES}"
    return count


def imagen_body(count: int) -> bytes:
    image = {
        "bytesBase64Encoded": base64.b64encode(media_files.PNG).decode(),
        "mimeType": "image/png",
    }
    return orjson.dumps({"predictions": [image] * count})
