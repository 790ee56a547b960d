"""The optional calls a provider may offer beside `chat`/`stream`/`embed`: media (images,
speech, transcription), moderation and rerank.

A provider that can do one has the matching method; the routes look for it and answer a
clear 400 (`unsupported`) for providers without it. Bodies
and answers are OpenAI's wire shapes; audio is relayed as bytes, never parsed, except where
a provider answers it inside JSON (Gemini) and hands it over whole (`BufferedAudio`).
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

    @property
    def usage(self) -> JSON | None:
        """OpenAI's speech answers carry no usage: they are priced per character."""
        return None


BUFFERED_PIECE = 64 * 1024


@dataclass(frozen=True, slots=True)
class BufferedAudio:
    """Audio already in memory (a provider that answers it inside JSON), with the token usage
    that answer reported, in OpenAI's media usage shape (`input_tokens`/`output_tokens`)."""

    content_type: str
    body: bytes
    usage: JSON | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), BUFFERED_PIECE):
            yield self.body[start : start + BUFFERED_PIECE]

    async def aclose(self) -> None:
        return None


class AudioStream(Protocol):
    """What a speech call opens: relayed upstream bytes or buffered audio."""

    @property
    def content_type(self) -> str: ...

    @property
    def usage(self) -> JSON | None: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ImageProvider(Protocol):
    async def generate_image(self, call: ProviderCall) -> JSON:
        """Return an OpenAI `ImagesResponse` object."""


@runtime_checkable
class SpeechProvider(Protocol):
    async def speech(self, call: ProviderCall) -> AudioStream:
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
