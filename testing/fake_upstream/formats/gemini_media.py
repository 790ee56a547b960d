"""Gemini's image and speech answers: `generateContent` with `responseModalities` IMAGE or
AUDIO (checked in `gemini_wire`).

An image answer is a 1x1 PNG as an `inlineData` part (after a short text part when TEXT was
asked for too), with the 1290 output tokens Gemini reports per image; a speech answer is a
440 Hz tone as `audio/L16;codec=pcm;rate=24000`, one second per 15 characters, at 32 tokens a
second. A content-policy scenario is a candidate with no parts and a safety `finishReason`.
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
