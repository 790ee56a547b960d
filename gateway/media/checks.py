"""The bodies of `/images/generations` and `/audio/speech`, checked once at the route.

Only what the gateway itself relies on, or what is certainly wrong, is refused here; the rest
(sizes, qualities, voices a model lacks) is the upstream's to judge. Chat's shape checks do not
apply: `response_format` is a string here.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import BadRequestError

IMAGE_FORMATS = ("url", "b64_json")
SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
MAX_IMAGES = 10


def _missing(name: str) -> BadRequestError:
    return BadRequestError(
        f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
    )


def _invalid(name: str, message: str) -> BadRequestError:
    return BadRequestError(message, param=name, code="invalid_value")


def _text(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if value is None or value == "":
        raise _missing(name)
    if not isinstance(value, str):
        raise _invalid(name, f"'{name}' must be a string.")


def image_count(body: dict[str, Any]) -> int:
    count = body.get("n", 1)
    if count is None:
        return 1
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_IMAGES:
        raise _invalid("n", f"'n' must be an integer from 1 to {MAX_IMAGES}.")
    return count


def image_body(body: dict[str, Any]) -> None:
    _text(body, "prompt")
    if body.get("stream"):
        raise BadRequestError(
            "Streamed image generation (partial images) is not supported by this gateway; "
            "leave 'stream' unset.",
            param="stream",
            code="unsupported_parameter",
        )
    image_count(body)
    response_format = body.get("response_format")
    if response_format is not None and response_format not in IMAGE_FORMATS:
        raise _invalid("response_format", "'response_format' must be 'url' or 'b64_json'.")


def speech_body(body: dict[str, Any]) -> None:
    _text(body, "input")
    voice = body.get("voice")
    if voice is None or voice == "":
        raise _missing("voice")
    if not isinstance(voice, str | dict):
        raise _invalid("voice", "'voice' must be a voice name or a voice object.")
    response_format = body.get("response_format")
    if response_format is not None and response_format not in SPEECH_FORMATS:
        raise _invalid(
            "response_format", f"'response_format' must be one of {', '.join(SPEECH_FORMATS)}."
        )
    speed = body.get("speed")
    if speed is not None and (isinstance(speed, bool) or not isinstance(speed, int | float)):
        raise _invalid("speed", "'speed' must be a number.")


def transcription_body(body: dict[str, Any]) -> None:
    """The form's text fields (the file was checked when the form was read)."""
    response_format = body.get("response_format")
    if isinstance(response_format, list):
        raise _invalid("response_format", "'response_format' must be given once.")


def moderation_body(body: dict[str, Any]) -> None:
    value = body.get("input")
    if value is None or value == "" or value == []:
        raise _missing("input")
    if not isinstance(value, str | list):
        raise _invalid("input", "'input' must be a string or a list.")


def rerank_body(body: dict[str, Any]) -> None:
    _text(body, "query")
    documents = body.get("documents")
    if documents is None or documents == []:
        raise _missing("documents")
    if not isinstance(documents, list) or not all(
        isinstance(d, str) or (isinstance(d, dict) and isinstance(d.get("text"), str))
        for d in documents
    ):
        raise _invalid("documents", "'documents' must be a list of strings or {\"text\"} objects.")
    top_n = body.get("top_n")
    if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1):
        raise _invalid("top_n", "'top_n' must be a positive integer.")
