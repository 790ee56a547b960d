"""The optional calls a provider may offer beside `chat`/`stream`/`embed`: media (images,
speech, transcription), moderation and rerank.

A provider that can do one has the matching method; the routes look for it and answer a
clear 400 (`unsupported`) for providers without it. Bodies
and answers are OpenAI's wire shapes; audio is relayed as bytes, never parsed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import httpx

from gateway.providers.base import JSON, ProviderCall
from gateway.providers.errors import error_from_transport

AudioTask = Literal["transcriptions", "translations"]


@dataclass(frozen=True, slots=True)
class AudioFile:
    """An uploaded recording, held in memory (the upload limit bounds it)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class AudioForm:
    """A transcription or translation request: the form's text fields (repeats kept, `model`
    replaced by the deployment's) and the file. Bound to a `ProviderCall` whose body is the
    same fields as a dict."""

    task: AudioTask
    file: AudioFile
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Answer:
    """An upstream answer relayed as it came: its content type and bytes."""

    content_type: str
    body: bytes


@dataclass
class BinaryStream:
    """An open upstream response whose body is relayed to the client piece by piece."""

    provider: str
    response: httpx.Response
    _closed: bool = field(default=False, init=False)

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", "application/octet-stream"))

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.aiter_raw():
                if chunk:
                    yield chunk
        except httpx.HTTPError as exc:
            raise error_from_transport(self.provider, exc) from exc

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self.response.aclose()


@runtime_checkable
class ImageProvider(Protocol):
    async def generate_image(self, call: ProviderCall) -> JSON:
        """Return an OpenAI `ImagesResponse` object."""


@runtime_checkable
class SpeechProvider(Protocol):
    async def speech(self, call: ProviderCall) -> BinaryStream:
        """Open the audio; an upstream error raises before any byte is relayed."""


@runtime_checkable
class TranscriptionProvider(Protocol):
    async def transcribe(self, call: ProviderCall, form: AudioForm) -> Answer:
        """Upload the recording; the answer is JSON or text, per `response_format`."""


@runtime_checkable
class ModerationProvider(Protocol):
    async def moderate(self, call: ProviderCall) -> JSON:
        """Return an OpenAI moderation object (`results` per input)."""


@runtime_checkable
class RerankProvider(Protocol):
    async def rerank(self, call: ProviderCall) -> JSON:
        """Return ranked `results` (`index`, `relevance_score`, `document`)."""
