"""Reading a transcription upload: `multipart/form-data` with one `file`, within the size limit.

Every problem is a 400 naming the field (413 past the limit), never a 500: a body that is not
a form, a form without a file or with an empty one, extra files, a form the parser rejects.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from gateway.errors import BadRequestError, RequestTooLargeError
from gateway.providers.media import AudioFile, AudioForm, AudioTask

MULTIPART = "multipart/form-data"
FILE_FIELD = "file"
MAX_FIELDS = 64


def _too_large(max_bytes: int) -> RequestTooLargeError:
    return RequestTooLargeError(
        f"Request body exceeds the {max_bytes} byte limit (general_settings.max_request_size_mb)."
    )


async def _limited(request: Request, max_bytes: int) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        yield chunk


def _content_type(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != MULTIPART:
        raise BadRequestError(
            f"Invalid Content-Type header ({content_type or 'none'}), expected "
            "multipart/form-data with the recording in a 'file' field.",
            code="invalid_content_type",
        )
    return content_type


async def read_audio_form(
    request: Request, task: AudioTask, max_bytes: int
) -> tuple[dict[str, Any], AudioForm]:
    """The form's fields as a request body (repeated `name[]` fields as lists), and the form."""
    _content_type(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    parser = MultiPartParser(
        request.headers,
        _limited(request, max_bytes),
        max_files=1,
        max_fields=MAX_FIELDS,
        max_part_size=max_bytes,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise BadRequestError(
            f"Invalid multipart form: {exc.message}", code="invalid_form"
        ) from None
    try:
        fields: list[tuple[str, str]] = []
        audio: AudioFile | None = None
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != FILE_FIELD:
                    raise BadRequestError(
                        f"Unexpected file in field '{name}'; the recording goes in 'file'.",
                        param=name,
                    )
                audio = AudioFile(
                    filename=value.filename or "audio",
                    content_type=value.content_type or "application/octet-stream",
                    data=await value.read(),
                )
            else:
                fields.append((name, value))
    finally:
        await form.close()
    if audio is None:
        raise BadRequestError(
            "Missing required parameter: 'file'.", param="file", code="missing_required_parameter"
        )
    if not audio.data:
        raise BadRequestError("The uploaded file is empty.", param="file", code="empty_file")
    return body_from_fields(fields), AudioForm(task, audio, tuple(fields))


def body_from_fields(fields: list[tuple[str, str]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in fields:
        if name.endswith("[]"):
            body.setdefault(name, []).append(value)
        else:
            body[name] = value
    return body
