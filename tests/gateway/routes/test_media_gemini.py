"""Gemini image and TTS models behind `/images/generations` and `/audio/speech`, through a
gateway process with the official `openai` SDK, against the fake upstream's Gemini API.

Checked: the `generateContent` request Gemini gets (modalities, aspect ratio, voice), the
answer the client gets (a PNG as `b64_json`, a WAV parsed with `wave`, raw PCM), the formats
Gemini cannot give refused before any upstream call, and spend priced from the reported
tokens with the bundled price table.
"""

from __future__ import annotations

import base64
import io
import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from gateway.spend.prices import PriceTable
from testing.fake_upstream import media_files
from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.gateway.routes.test_media import rate, received, spend_rows
from tests.support.processes import ServiceProcess

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
IMAGE_MODEL = "gemini-2.5-flash-image-preview"
TTS_MODEL = "gemini-2.5-flash-preview-tts"
REFUSING_IMAGE_MODEL = f"{IMAGE_MODEL}+content-policy"
IMAGEN_MODEL = "imagen-4.0-generate-001"
IMAGEN_PRICE = 0.04  # LiteLLM's `output_cost_per_image`: Imagen reports no usage


def gemini_config(upstream: str) -> dict[str, Any]:
    def entry(name: str, model: str, **info: Any) -> dict[str, Any]:
        params = {"model": f"gemini/{model}", "api_base": upstream, "api_key": UPSTREAM_KEY}
        return {"model_name": name, "litellm_params": params, "model_info": info}

    return {
        "model_list": [
            entry("gemini-image", IMAGE_MODEL),
            entry("gemini-tts", TTS_MODEL),
            entry("refusing-image", REFUSING_IMAGE_MODEL),
            entry("busy-image", f"{IMAGE_MODEL}+error-429"),
            entry("imagen", IMAGEN_MODEL, output_cost_per_image=IMAGEN_PRICE),
        ],
        "router_settings": {"num_retries": 0},
        "general_settings": {"master_key": MASTER_KEY},
    }


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    service = start_gateway(
        gemini_config(fake_upstream.url), tmp_path_factory.mktemp("gemini-media"), service_log_dir
    )
    yield service
    service.stop()


@pytest.fixture
def key(gateway: ServiceProcess) -> str:
    """A fresh virtual key per test, so each test sees only its own spend rows."""
    response = httpx.post(f"{gateway.url}/key/generate", headers=ADMIN, json={}, timeout=10)
    response.raise_for_status()
    return str(response.json()["key"])


@pytest.fixture
def client(gateway: ServiceProcess, key: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.bundled()


def test_a_gemini_image_comes_back_as_b64_json_priced_by_image_tokens(
    client: openai.OpenAI,
    gateway: ServiceProcess,
    fake_upstream: ServiceProcess,
    key: str,
    prices: PriceTable,
) -> None:
    answer = client.images.generate(
        model="gemini-image", prompt="a lighthouse at dusk", n=2, size="1536x1024"
    )

    assert answer.data is not None and len(answer.data) == 2
    assert all(base64.b64decode(str(image.b64_json)) == media_files.PNG for image in answer.data)
    assert answer.usage is not None and answer.usage.output_tokens > 0
    sent = received(fake_upstream, IMAGE_MODEL)
    assert sent["path"] == f"/v1beta/models/{IMAGE_MODEL}:generateContent"
    assert sent["headers"]["x-goog-api-key"] == UPSTREAM_KEY
    assert sent["body"]["contents"] == [
        {"role": "user", "parts": [{"text": "a lighthouse at dusk"}]}
    ]
    assert sent["body"]["generationConfig"] == {
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "3:2"},
    }
    [row] = spend_rows(gateway, key, 1)
    expected = answer.usage.input_tokens * rate(
        prices, "gemini", IMAGE_MODEL, "input"
    ) + answer.usage.output_tokens * rate(prices, "gemini", IMAGE_MODEL, "output_image")
    assert row["spend"] == pytest.approx(expected) and row["spend"] > 0
    assert row["call_type"] == "image_generation"
    assert row["prompt_tokens"] == answer.usage.input_tokens
    assert row["completion_tokens"] == answer.usage.output_tokens


def test_imagen_draws_n_images_in_one_predict_priced_per_image(
    client: openai.OpenAI, gateway: ServiceProcess, fake_upstream: ServiceProcess, key: str
) -> None:
    answer = client.images.generate(model="imagen", prompt="a red square", n=3, size="1792x1024")

    assert answer.data is not None and len(answer.data) == 3
    assert base64.b64decode(str(answer.data[0].b64_json)) == media_files.PNG
    sent = received(fake_upstream, IMAGEN_MODEL)
    assert sent["path"] == f"/v1beta/models/{IMAGEN_MODEL}:predict"
    assert sent["body"] == {
        "instances": [{"prompt": "a red square"}],
        "parameters": {"sampleCount": 3, "aspectRatio": "16:9"},
    }
    [row] = spend_rows(gateway, key, 1)
    assert row["spend"] == pytest.approx(3 * IMAGEN_PRICE)


def test_a_gemini_image_url_is_a_clear_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.images.generate(model="gemini-image", prompt="x", response_format="url")

    error = raised.value.body
    assert isinstance(error, dict) and error["param"] == "response_format"
    assert "b64_json" in error["message"]


def test_a_refused_gemini_image_is_a_content_policy_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.images.generate(model="refusing-image", prompt="something forbidden")

    error = raised.value.body
    assert isinstance(error, dict) and error["code"] == "content_policy_violation"
    assert "IMAGE_SAFETY" in error["message"]


def test_one_failed_call_of_several_images_fails_the_request_with_its_status(
    client: openai.OpenAI, gateway: ServiceProcess, key: str
) -> None:
    with pytest.raises(openai.RateLimitError):
        client.images.generate(model="busy-image", prompt="three of them", n=3)

    [row] = spend_rows(gateway, key, 1)
    assert row["status"] == "failure" and row["http_status"] == 429


def test_gemini_speech_is_a_wav_of_its_pcm_priced_by_tokens(
    client: openai.OpenAI,
    gateway: ServiceProcess,
    fake_upstream: ServiceProcess,
    key: str,
    prices: PriceTable,
) -> None:
    text = "The gateway wraps Gemini's samples in a WAV header."
    audio = client.audio.speech.create(
        model="gemini-tts", voice="alloy", input=text, instructions="Say calmly"
    )

    assert audio.response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as recording:
        assert recording.getframerate() == media_files.SAMPLE_RATE
        assert recording.getnchannels() == 1 and recording.getsampwidth() == 2
        frames = recording.readframes(recording.getnframes())
    assert recording.getnframes() > 0 and any(frames)  # real samples, not a silent pad
    sent = received(fake_upstream, TTS_MODEL)["body"]
    assert sent["contents"] == [{"role": "user", "parts": [{"text": f"Say calmly: {text}"}]}]
    assert sent["generationConfig"] == {
        "responseModalities": ["AUDIO"],
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
    }
    [row] = spend_rows(gateway, key, 1)
    assert row["call_type"] == "speech" and row["status"] == "success"
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0
    expected = row["prompt_tokens"] * rate(prices, "gemini", TTS_MODEL, "input") + row[
        "completion_tokens"
    ] * rate(prices, "gemini", TTS_MODEL, "output")
    assert row["spend"] == pytest.approx(expected) and row["spend"] > 0


def test_gemini_speech_as_pcm_with_a_gemini_voice_name(
    client: openai.OpenAI, fake_upstream: ServiceProcess
) -> None:
    audio = client.audio.speech.create(
        model="gemini-tts", voice="Puck", input="Raw samples, please.", response_format="pcm"
    )

    assert audio.response.headers["content-type"] == "audio/pcm"
    assert len(audio.content) % 2 == 0 and audio.content
    samples = struct.unpack(f"<{len(audio.content) // 2}h", audio.content)
    assert max(samples) > 0 > min(samples)
    voice = received(fake_upstream, TTS_MODEL)["body"]["generationConfig"]["speechConfig"]
    assert voice == {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}}


@pytest.mark.parametrize("response_format", ["mp3", "opus", "aac", "flac"])
def test_compressed_speech_from_gemini_is_a_400_naming_what_it_can_give(
    client: openai.OpenAI, gateway: ServiceProcess, key: str, response_format: Any
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.speech.create(
            model="gemini-tts", voice="alloy", input="x", response_format=response_format
        )

    error = raised.value.body
    assert isinstance(error, dict) and error["param"] == "response_format"
    assert "wav" in error["message"] and "pcm" in error["message"]
    assert response_format in error["message"]
    [row] = spend_rows(gateway, key, 1)
    assert row["status"] == "failure" and row["spend"] == 0
