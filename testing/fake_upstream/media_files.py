"""Tiny but valid media files: what the fake upstream answers image and speech requests with,
and how it measures an uploaded recording.

Every file decodes: the PNG is a 1x1 pixel, the WAV and PCM are silence at 24 kHz mono 16-bit
(OpenAI's `pcm` format), the MP3 is silent MPEG-1 Layer III frames. Gemini's speech is a
440 Hz tone in the same PCM format, so a client can tell real samples from padding.
"""

from __future__ import annotations

import base64
import math
import struct

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAHnOqGQAAAABJRU5ErkJggg=="
)
SAMPLE_RATE = 24_000
SAMPLE_BYTES = 2
# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding, mono: a 417-byte frame of 1152 samples.
# All-zero side information and main data decode as silence.
_MP3_HEADER = bytes((0xFF, 0xFB, 0x90, 0xC4))
_MP3_FRAME = _MP3_HEADER + bytes(417 - len(_MP3_HEADER))

# response_format -> content type, as OpenAI labels its speech answers
SPEECH_CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm"}


def pcm_silence(seconds: float) -> bytes:
    return bytes(int(seconds * SAMPLE_RATE) * SAMPLE_BYTES)


TONE_HERTZ = 440
TONE_AMPLITUDE = 8_000


def pcm_tone(seconds: float) -> bytes:
    """A sine tone, 16-bit little-endian mono at `SAMPLE_RATE` (Gemini's `audio/L16` answer)."""
    count = int(seconds * SAMPLE_RATE)
    step = 2 * math.pi * TONE_HERTZ / SAMPLE_RATE
    samples = (round(TONE_AMPLITUDE * math.sin(step * i)) for i in range(count))
    return struct.pack(f"<{count}h", *samples)


def wav(seconds: float) -> bytes:
    """A RIFF/WAVE file of `seconds` of silence."""
    samples = pcm_silence(seconds)
    fmt = struct.pack(
        "<HHIIHH", 1, 1, SAMPLE_RATE, SAMPLE_RATE * SAMPLE_BYTES, SAMPLE_BYTES, 8 * SAMPLE_BYTES
    )
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    chunks += b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def mp3(seconds: float) -> bytes:
    frames = max(1, round(seconds * 44_100 / 1152))
    return _MP3_FRAME * frames


def speech(response_format: str, seconds: float) -> bytes:
    if response_format == "wav":
        return wav(seconds)
    if response_format == "pcm":
        return pcm_silence(seconds)
    return mp3(seconds)


def wav_seconds(data: bytes) -> float | None:
    """The length of a PCM WAV recording, or None when `data` is not one."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset, byte_rate, size = 12, 0, None
    while offset + 8 <= len(data):
        kind = data[offset : offset + 4]
        length: int = struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        if kind == b"fmt " and length >= 16:
            byte_rate = struct.unpack("<I", data[offset + 16 : offset + 20])[0]
        elif kind == b"data":
            size = min(length, len(data) - offset - 8)
            break
        offset += 8 + length + (length & 1)
    if not byte_rate or size is None:
        return None
    return float(size / byte_rate)
