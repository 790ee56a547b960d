"""OpenAI image and speech requests as Gemini `generateContent` calls, and their answers back.

Images: the prompt is one user turn with `responseModalities: ["TEXT", "IMAGE"]` (what every
Gemini image model accepts); each `inlineData` image part becomes one `data[].b64_json`. Gemini
gives no image URLs, so `response_format: "url"` is a 400 rather than a silent change of shape.
An OpenAI `size` becomes the nearest `imageConfig.aspectRatio` Gemini offers.

Speech: the text (after `instructions`, as Gemini's style prompts read: "Say cheerfully: ...")
with `responseModalities: ["AUDIO"]` and a prebuilt voice. OpenAI voice names map through
`OPENAI_VOICES`; any other name is passed through as a Gemini voice. Gemini answers 16-bit
little-endian mono PCM (`audio/L16;codec=pcm;rate=24000`), returned as `wav` (the default) or
raw `pcm`; compressed formats would need an encoder, so they are a 400.

Imagen models (`imagen-*`) draw through `:predict` instead: `instances[0].prompt`, and
`parameters.sampleCount` for `n` (one call), `aspectRatio` from Imagen's shorter list. Their
answers (`predictions[].bytesBase64Encoded`) carry no usage: price them per image with
`output_cost_per_image` on the deployment.

Usage (`usageMetadata`) is reported in OpenAI's media usage shape (`input_tokens`,
`output_tokens`), so spend is priced by tokens, image tokens out at the image rate.
"""

from __future__ import annotations

import base64
import binascii
import io
import wave
from dataclasses import dataclass
from typing import Any

from gateway.errors import BadRequestError, ContentPolicyViolationError
from gateway.providers.base import JSON
from gateway.providers.errors import malformed_response
from gateway.providers.gemini_response import check_blocked

NAME = "gemini"
IMAGE_MODALITIES = ["TEXT", "IMAGE"]
IMAGEN_ASPECT_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
SPEECH_FORMATS = ("wav", "pcm")
DEFAULT_SPEECH_FORMAT = "wav"
DEFAULT_SAMPLE_RATE = 24_000
SAMPLE_WIDTH = 2  # 16-bit
CONTENT_TYPES = {"wav": "audio/wav", "pcm": "audio/pcm"}
# OpenAI's voices, each given the Gemini prebuilt voice closest in Google's one-word
# description (Kore "firm", Puck "upbeat", ...). Names not listed pass through unchanged.
OPENAI_VOICES = {
    "alloy": "Kore",
    "ash": "Charon",
    "ballad": "Algieba",
    "coral": "Aoede",
    "echo": "Puck",
    "fable": "Fenrir",
    "onyx": "Orus",
    "nova": "Leda",
    "sage": "Iapetus",
    "shimmer": "Zephyr",
    "verse": "Enceladus",
    "marin": "Sulafat",
    "cedar": "Achird",
}
# finishReasons that mean the model declined to draw or speak
_REFUSALS = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
    }
)


def _user_turn(text: str) -> list[JSON]:
    return [{"role": "user", "parts": [{"text": text}]}]


def is_imagen(model: str) -> bool:
    return model.startswith("imagen-")


def _aspect_ratio(size: Any, offered: tuple[str, ...] = ASPECT_RATIOS) -> str | None:
    """`WIDTHxHEIGHT` -> the closest ratio offered; None for `auto` or no size."""
    if size is None or size == "auto":
        return None
    width, sep, height = str(size).partition("x")
    if not (sep and width.isdigit() and height.isdigit() and int(width) and int(height)):
        raise BadRequestError(
            f"'size' must be WIDTHxHEIGHT or 'auto' (got {size!r}); Gemini takes it as the "
            f"nearest of the aspect ratios {', '.join(offered)}.",
            param="size",
            code="invalid_value",
        )
    wanted = int(width) / int(height)

    def distance(ratio: str) -> float:
        w, _, h = ratio.partition(":")
        return abs(int(w) / int(h) - wanted)

    return min(offered, key=distance)


def _no_urls(body: JSON) -> None:
    if body.get("response_format") == "url":
        raise BadRequestError(
            "Gemini image models return the image itself, not a URL: use "
            "response_format 'b64_json' (or leave it unset) with this model.",
            param="response_format",
            code="unsupported_value",
        )


def image_request(body: JSON) -> JSON:
    _no_urls(body)
    config: JSON = {"responseModalities": IMAGE_MODALITIES}
    ratio = _aspect_ratio(body.get("size"))
    if ratio is not None:
        config["imageConfig"] = {"aspectRatio": ratio}
    return {"contents": _user_turn(str(body["prompt"])), "generationConfig": config}


def imagen_request(body: JSON) -> JSON:
    _no_urls(body)
    parameters: JSON = {"sampleCount": body.get("n") or 1}
    ratio = _aspect_ratio(body.get("size"), IMAGEN_ASPECT_RATIOS)
    if ratio is not None:
        parameters["aspectRatio"] = ratio
    return {"instances": [{"prompt": str(body["prompt"])}], "parameters": parameters}


def imagen_answer(response: JSON, created: int) -> JSON:
    """OpenAI `ImagesResponse` from `predictions`; none at all means every image was filtered
    (Imagen drops filtered images silently), a content-policy error."""
    predictions = response.get("predictions")
    data: list[JSON] = []
    for prediction in predictions if isinstance(predictions, list) else []:
        encoded = prediction.get("bytesBase64Encoded") if isinstance(prediction, dict) else None
        if not isinstance(encoded, str):
            continue
        try:
            base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise malformed_response(NAME, "an image is not valid base64") from exc
        data.append({"b64_json": encoded})
    if not data:
        raise ContentPolicyViolationError(
            "gemini error: Imagen returned no image (all were filtered)", provider=NAME
        )
    return {"created": created, "data": data}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _modality_tokens(details: Any, modality: str) -> int:
    if not isinstance(details, list):
        return 0
    return sum(
        _count(d.get("tokenCount"))
        for d in details
        if isinstance(d, dict) and d.get("modality") == modality
    )


def media_usage(metadata: Any) -> JSON:
    """`usageMetadata` in OpenAI's media usage shape."""
    metadata = metadata if isinstance(metadata, dict) else {}
    prompt = _count(metadata.get("promptTokenCount"))
    output = _count(metadata.get("candidatesTokenCount")) + _count(
        metadata.get("thoughtsTokenCount")
    )
    details = metadata.get("promptTokensDetails")
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "text_tokens": _modality_tokens(details, "TEXT"),
            "image_tokens": _modality_tokens(details, "IMAGE"),
        },
        "output_tokens": output,
        "total_tokens": prompt + output,
    }


@dataclass(frozen=True, slots=True)
class InlineData:
    mime_type: str
    data: bytes


def _inline_parts(response: JSON, what: str) -> list[InlineData]:
    """The decoded `inlineData` parts of the first candidate; a refusal is a content-policy
    error (so `content_policy_fallbacks` apply), an answer without any a 502."""
    check_blocked(response)
    candidates = response.get("candidates")
    candidate = candidates[0] if isinstance(candidates, list) and candidates else {}
    if not isinstance(candidate, dict):
        raise malformed_response(NAME, "a candidate is not an object")
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    found: list[InlineData] = []
    for part in parts if isinstance(parts, list) else []:
        inline = part.get("inlineData") if isinstance(part, dict) else None
        if not isinstance(inline, dict):
            continue
        try:
            data = base64.b64decode(str(inline.get("data", "")), validate=True)
        except binascii.Error as exc:
            raise malformed_response(NAME, f"{what} is not valid base64") from exc
        found.append(InlineData(str(inline.get("mimeType", "")), data))
    if found:
        return found
    reason = candidate.get("finishReason")
    if reason in _REFUSALS:
        raise ContentPolicyViolationError(
            f"gemini error: the model declined to produce {what} ({reason})", provider=NAME
        )
    raise malformed_response(NAME, f"the answer holds no {what} (finishReason {reason!r})")


def images_answer(responses: list[JSON], created: int) -> JSON:
    """OpenAI `ImagesResponse` from one `generateContent` answer per requested image."""
    data: list[JSON] = []
    usage = media_usage(None)
    for response in responses:
        images = [
            p for p in _inline_parts(response, "an image") if p.mime_type.startswith("image/")
        ]
        if not images:
            raise malformed_response(NAME, "the answer holds no image part")
        data += [{"b64_json": base64.b64encode(image.data).decode()} for image in images]
        one = media_usage(response.get("usageMetadata"))
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            usage[key] += one[key]
        for key in ("text_tokens", "image_tokens"):
            usage["input_tokens_details"][key] += one["input_tokens_details"][key]
    return {"created": created, "data": data, "usage": usage}


def voice_name(voice: Any) -> str:
    """An OpenAI voice (a name or `{"id": ...}`) as a Gemini prebuilt voice name."""
    name = voice.get("id") if isinstance(voice, dict) else voice
    if not isinstance(name, str) or not name:
        raise BadRequestError(
            "'voice' must name a voice: an OpenAI voice or a Gemini prebuilt voice.",
            param="voice",
            code="invalid_value",
        )
    return OPENAI_VOICES.get(name.lower(), name)


def speech_format(body: JSON) -> str:
    chosen = body.get("response_format") or DEFAULT_SPEECH_FORMAT
    if chosen not in SPEECH_FORMATS:
        raise BadRequestError(
            f"Gemini speech models produce PCM audio, which this gateway returns as "
            f"{' or '.join(SPEECH_FORMATS)}; response_format {chosen!r} is not available "
            "for this model.",
            param="response_format",
            code="unsupported_value",
        )
    return str(chosen)


def speech_request(body: JSON, *, drop_params: bool) -> JSON:
    speed = body.get("speed")
    if speed is not None and speed != 1 and not drop_params:
        raise BadRequestError(
            "Gemini speech models have no speed setting; leave 'speed' unset (or ask for a "
            "pace in 'instructions'), or set drop_params.",
            param="speed",
            code="unsupported_parameter",
        )
    text = str(body["input"])
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions.strip():
        text = f"{instructions.strip().rstrip(':')}: {text}"
    voice = {"prebuiltVoiceConfig": {"voiceName": voice_name(body.get("voice"))}}
    return {
        "contents": _user_turn(text),
        "generationConfig": {
            "responseModalities": ["AUDIO"],
            "speechConfig": {"voiceConfig": voice},
        },
    }


def _sample_rate(mime_type: str) -> int:
    """The `rate=` parameter of `audio/L16;codec=pcm;rate=24000`."""
    for parameter in mime_type.split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key.lower() == "rate" and value.isdigit() and int(value) > 0:
            return int(value)
    return DEFAULT_SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class SpokenAudio:
    content_type: str
    audio: bytes
    usage: JSON


def speech_answer(response: JSON, response_format: str) -> SpokenAudio:
    parts = [p for p in _inline_parts(response, "audio") if p.mime_type.startswith("audio/")]
    if not parts:
        raise malformed_response(NAME, "the answer holds no audio part")
    kinds = {p.mime_type.split(";")[0].strip().lower() for p in parts}
    if kinds != {"audio/l16"}:
        raise malformed_response(NAME, f"expected audio/L16 PCM, got {', '.join(sorted(kinds))}")
    rates = {_sample_rate(p.mime_type) for p in parts}
    if len(rates) != 1:
        raise malformed_response(NAME, "audio parts differ in sample rate")
    [rate] = rates
    pcm = b"".join(p.data for p in parts)
    usage = media_usage(response.get("usageMetadata"))
    if response_format == "pcm":
        content_type = "audio/pcm" if rate == DEFAULT_SAMPLE_RATE else f"audio/pcm;rate={rate}"
        return SpokenAudio(content_type, pcm, usage)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(rate)
        out.writeframes(pcm)
    return SpokenAudio(CONTENT_TYPES["wav"], buffer.getvalue(), usage)
