"""Images, speech and transcription through a gateway process, with the official `openai` SDK,
against the fake upstream: answers relayed intact, uploads forwarded as forms, the key's model
access, budget, fallbacks and errors applied as for chat, and one priced spend row per call.

Spend is checked against the bundled price table (per image, per character, per second, or
by the tokens the upstream reported), never against numbers written here.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest

from gateway.spend.prices import PriceTable
from testing.fake_upstream import media_files
from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.support.processes import ServiceProcess

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
IMAGE_PRICE = 0.04  # LiteLLM's `output_cost_per_image`, set on the dall-e-3 deployment
AZURE_VERSION = "2025-04-01-preview"
UPLOAD_LIMIT_MB = 0.25


def media_config(upstream: str) -> dict[str, Any]:
    def openai_entry(name: str, model: str, **info: Any) -> dict[str, Any]:
        params = {"model": f"openai/{model}", "api_base": f"{upstream}/v1", "api_key": UPSTREAM_KEY}
        return {"model_name": name, "litellm_params": params, "model_info": info}

    def azure_entry(name: str, deployment: str) -> dict[str, Any]:
        params = {
            "model": f"azure/{deployment}",
            "api_base": upstream,
            "api_key": UPSTREAM_KEY,
            "api_version": AZURE_VERSION,
        }
        return {"model_name": name, "litellm_params": params}

    claude = {
        "model_name": "claude",
        "litellm_params": {
            "model": "anthropic/claude-sonnet-4-5",
            "api_base": upstream,
            "api_key": UPSTREAM_KEY,
        },
    }
    return {
        "model_list": [
            openai_entry("dall-e-3", "dall-e-3", output_cost_per_image=IMAGE_PRICE),
            openai_entry("busy-images", "dall-e-3+error-429", output_cost_per_image=IMAGE_PRICE),
            azure_entry("azure-image", "gpt-image-1"),
            openai_entry("tts-1", "tts-1"),
            openai_entry("broken-tts", "tts-1+error-500"),
            openai_entry("cut-tts", "tts-1+disconnect"),
            azure_entry("azure-tts", "tts-1-hd"),
            openai_entry("whisper-1", "whisper-1"),
            azure_entry("azure-whisper", "whisper-1"),
            openai_entry("gpt-4o-transcribe", "gpt-4o-transcribe"),
            claude,
        ],
        "router_settings": {"num_retries": 0, "fallbacks": [{"broken-tts": ["tts-1"]}]},
        "general_settings": {"master_key": MASTER_KEY, "max_request_size_mb": UPLOAD_LIMIT_MB},
    }


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    service = start_gateway(
        media_config(fake_upstream.url), tmp_path_factory.mktemp("media"), service_log_dir
    )
    yield service
    service.stop()


def _new_key(gateway: ServiceProcess, **fields: Any) -> str:
    response = httpx.post(f"{gateway.url}/key/generate", headers=ADMIN, json=fields, timeout=10)
    response.raise_for_status()
    return str(response.json()["key"])


@pytest.fixture
def key(gateway: ServiceProcess) -> str:
    """A fresh virtual key per test, so each test sees only its own spend rows."""
    return _new_key(gateway)


@pytest.fixture
def client(gateway: ServiceProcess, key: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.bundled()


def spend_rows(gateway: ServiceProcess, key: str, count: int) -> list[dict[str, Any]]:
    """Spend rows are written in batches off the request path: wait (bounded) for them."""
    deadline = time.monotonic() + 20
    while True:
        rows = httpx.get(
            f"{gateway.url}/spend/logs", headers=ADMIN, params={"api_key": key}, timeout=10
        ).json()
        if len(rows) >= count or time.monotonic() > deadline:
            return list(rows)
        time.sleep(0.1)


def received(upstream: ServiceProcess, model: str) -> dict[str, Any]:
    entries = httpx.get(
        f"{upstream.url}/__fake__/requests", params={"model": model}, timeout=10
    ).json()["data"]
    assert entries, f"the fake upstream received nothing for {model!r}"
    return dict(entries[-1])


def rate(prices: PriceTable, provider: str, model: str, name: str) -> float:
    found = prices.lookup(provider, model)
    assert found is not None, f"{provider}/{model} is not in the price table"
    value = getattr(found.base, name)
    assert isinstance(value, float) and value > 0
    return value


def test_images_by_url_and_inline_are_priced_per_image(
    client: openai.OpenAI, gateway: ServiceProcess, key: str
) -> None:
    by_url = client.images.generate(model="dall-e-3", prompt="a lighthouse at dusk", n=2)
    inline = client.images.generate(
        model="dall-e-3", prompt="a lighthouse", response_format="b64_json"
    )

    assert by_url.data is not None and len(by_url.data) == 2
    assert httpx.get(str(by_url.data[0].url), timeout=10).content == media_files.PNG
    assert inline.data is not None
    assert base64.b64decode(str(inline.data[0].b64_json)) == media_files.PNG
    rows = spend_rows(gateway, key, 2)
    assert sorted(row["spend"] for row in rows) == pytest.approx([IMAGE_PRICE, 2 * IMAGE_PRICE])
    assert {row["call_type"] for row in rows} == {"image_generation"}
    assert {row["model"] for row in rows} == {"dall-e-3"}


def test_an_azure_gpt_image_is_priced_by_its_token_usage(
    client: openai.OpenAI,
    gateway: ServiceProcess,
    fake_upstream: ServiceProcess,
    key: str,
    prices: PriceTable,
) -> None:
    answer = client.images.generate(model="azure-image", prompt="a red square")

    assert answer.usage is not None and answer.usage.output_tokens > 0
    sent = received(fake_upstream, "gpt-image-1")
    assert sent["path"] == "/openai/deployments/gpt-image-1/images/generations"
    assert f"api-version={AZURE_VERSION}" in sent["query"]
    assert sent["headers"]["api-key"] == UPSTREAM_KEY
    [row] = spend_rows(gateway, key, 1)
    expected = answer.usage.input_tokens * rate(
        prices, "azure", "gpt-image-1", "input"
    ) + answer.usage.output_tokens * rate(prices, "azure", "gpt-image-1", "output")
    assert row["spend"] == pytest.approx(expected) and row["spend"] > 0
    assert row["prompt_tokens"] == answer.usage.input_tokens
    assert row["completion_tokens"] == answer.usage.output_tokens


def test_speech_streams_audio_and_is_priced_per_character(
    client: openai.OpenAI, gateway: ServiceProcess, key: str, prices: PriceTable
) -> None:
    text = "The gateway relays this sentence as audio."
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text
    ) as streamed:
        pieces = list(streamed.iter_bytes(chunk_size=1024))
        content_type = streamed.headers["content-type"]
    wav = client.audio.speech.create(
        model="azure-tts", voice="nova", input=text, response_format="wav"
    )

    audio = b"".join(pieces)
    assert content_type == "audio/mpeg"
    assert audio[:2] == b"\xff\xfb" and len(pieces) > 1
    assert wav.response.headers["content-type"] == "audio/wav"
    assert media_files.wav_seconds(wav.content) is not None
    rows = {row["model"]: row for row in spend_rows(gateway, key, 2)}
    assert rows["tts-1"]["spend"] == pytest.approx(
        len(text) * rate(prices, "openai", "tts-1", "per_character")
    )
    assert rows["tts-1-hd"]["spend"] == pytest.approx(
        len(text) * rate(prices, "azure", "tts-1-hd", "per_character")
    )
    assert rows["tts-1"]["call_type"] == "speech"


def test_speech_falls_back_when_the_first_model_fails(
    client: openai.OpenAI, fake_upstream: ServiceProcess, gateway: ServiceProcess, key: str
) -> None:
    audio = client.audio.speech.create(model="broken-tts", voice="alloy", input="fallback")

    assert audio.content[:2] == b"\xff\xfb"
    assert audio.response.headers["x-litellm-attempted-fallbacks"] == "1"
    assert received(fake_upstream, "tts-1+error-500")["status"] == 500
    [row] = spend_rows(gateway, key, 1)
    assert row["status"] == "success" and row["model"] == "tts-1" and row["spend"] > 0


def test_speech_cut_off_upstream_is_a_truncated_body_and_a_failed_row(
    gateway: ServiceProcess, key: str
) -> None:
    long_text = "A sentence long enough to need several pieces of audio. " * 20
    with (
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0) as sdk,
        sdk.audio.speech.with_streaming_response.create(
            model="cut-tts", voice="alloy", input=long_text
        ) as streamed,
        pytest.raises(httpx2.RemoteProtocolError),  # the transport the openai SDK uses
    ):
        b"".join(streamed.iter_bytes())
    [row] = spend_rows(gateway, key, 1)
    assert row["status"] == "failure" and row["http_status"] == 503


def test_a_transcription_upload_is_forwarded_as_a_form_and_priced_per_second(
    client: openai.OpenAI,
    gateway: ServiceProcess,
    fake_upstream: ServiceProcess,
    key: str,
    prices: PriceTable,
) -> None:
    recording = media_files.wav(2.5)
    answer = client.audio.transcriptions.create(
        model="whisper-1",
        file=("meeting.wav", recording, "audio/wav"),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="en",
    )

    assert answer.duration == pytest.approx(2.5)
    assert answer.text == "The fake upstream heard 2.50 seconds of meeting.wav."
    assert answer.words
    form = received(fake_upstream, "whisper-1")["body"]
    assert form["file"] == {
        "filename": "meeting.wav",
        "content_type": "audio/wav",
        "size": len(recording),
    }
    assert form["timestamp_granularities[]"] == ["word", "segment"]
    assert form["language"] == "en" and form["response_format"] == "verbose_json"
    [row] = spend_rows(gateway, key, 1)
    assert answer.usage is not None and answer.usage.type == "duration"
    assert row["spend"] == pytest.approx(
        answer.usage.seconds * rate(prices, "openai", "whisper-1", "per_second")
    )
    assert row["call_type"] == "transcription"


def test_a_token_billed_transcription_prices_audio_tokens(
    client: openai.OpenAI, gateway: ServiceProcess, key: str, prices: PriceTable
) -> None:
    answer = client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=("memo.wav", media_files.wav(1.0), "audio/wav")
    )

    usage = answer.usage
    assert usage is not None and usage.type == "tokens" and usage.input_token_details
    audio_tokens = usage.input_token_details.audio_tokens or 0
    [row] = spend_rows(gateway, key, 1)
    expected = audio_tokens * rate(
        prices, "openai", "gpt-4o-transcribe", "input_audio"
    ) + usage.output_tokens * rate(prices, "openai", "gpt-4o-transcribe", "output")
    assert audio_tokens > 0 and row["spend"] == pytest.approx(expected)


def test_an_azure_translation_answers_subtitles(gateway: ServiceProcess, key: str) -> None:
    answer = httpx.post(
        f"{gateway.url}/audio/translations",  # the route works without /v1 too
        headers={"Authorization": f"Bearer {key}"},
        data={"model": "azure-whisper", "response_format": "srt"},
        files={"file": ("talk.wav", media_files.wav(1.0), "audio/wav")},
        timeout=10,
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text.startswith("1\n00:00:00,000 --> 00:00:01,000\n")
    [row] = spend_rows(gateway, key, 1)
    assert row["custom_llm_provider"] == "azure" and row["status"] == "success"


def test_a_provider_without_the_task_is_a_400_unsupported(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as image:
        client.images.generate(model="claude", prompt="x")
    with pytest.raises(openai.BadRequestError) as speech:
        client.audio.speech.create(model="claude", voice="alloy", input="x")
    with pytest.raises(openai.BadRequestError) as transcription:
        client.audio.transcriptions.create(model="claude", file=("a.wav", media_files.wav(0.1)))

    for raised in (image, speech, transcription):
        error = raised.value.body
        assert isinstance(error, dict) and error["code"] == "unsupported"
        assert "anthropic/claude-sonnet-4-5" in error["message"]


def test_upstream_errors_keep_their_status(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.images.generate(model="busy-images", prompt="x")


def test_a_key_limited_to_images_cannot_speak(gateway: ServiceProcess) -> None:
    images_only = _new_key(gateway, models=["dall-e-3"])
    with (
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=images_only, max_retries=0) as sdk,
        pytest.raises(openai.PermissionDeniedError) as raised,
    ):
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="no")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "model_access_denied"


def test_image_spend_counts_against_the_key_budget(gateway: ServiceProcess) -> None:
    small = _new_key(gateway, max_budget=IMAGE_PRICE * 1.5)
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=small, max_retries=0) as sdk:
        sdk.images.generate(model="dall-e-3", prompt="first", n=2)
        with pytest.raises(openai.UnprocessableEntityError) as raised:
            sdk.images.generate(model="dall-e-3", prompt="over budget")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "budget_exceeded"


def _post(
    gateway: ServiceProcess,
    key: str,
    path: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/{path}",
        headers={"Authorization": f"Bearer {key}", **(headers or {})},
        timeout=10,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "param"),
    [
        ("images/generations", {"json": {"model": "dall-e-3"}}, 400, "prompt"),
        ("images/generations", {"json": {"model": "dall-e-3", "prompt": "x", "n": 0}}, 400, "n"),
        (
            "images/generations",
            {"json": {"model": "dall-e-3", "prompt": "x", "response_format": "gif"}},
            400,
            "response_format",
        ),
        ("images/generations", {"content": b"not json"}, 400, None),
        ("audio/speech", {"json": {"model": "tts-1", "voice": "alloy"}}, 400, "input"),
        ("audio/speech", {"json": {"model": "tts-1", "input": "hi"}}, 400, "voice"),
        ("audio/transcriptions", {"json": {"model": "whisper-1"}}, 400, None),
        ("audio/transcriptions", {"data": {"model": "whisper-1"}}, 400, None),
        (
            "audio/transcriptions",
            {"data": {"model": "whisper-1"}, "files": {"other": ("a.wav", b"RIFF")}},
            400,
            "other",
        ),
        (
            "audio/transcriptions",
            {"data": {"model": "whisper-1"}, "files": {"file": ("a.wav", b"")}},
            400,
            "file",
        ),
        (
            "audio/transcriptions",
            {"files": {"file": ("a.wav", media_files.wav(0.1), "audio/wav")}},
            400,
            "model",
        ),
        (
            "audio/transcriptions",
            {
                "data": {"model": "whisper-1"},
                "files": {"file": ("big.wav", media_files.wav(UPLOAD_LIMIT_MB * 25), "audio/wav")},
            },
            413,
            None,
        ),
    ],
)
def test_bad_input_is_an_openai_shaped_client_error(
    gateway: ServiceProcess,
    key: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    param: str | None,
) -> None:
    answer = _post(gateway, key, path, **kwargs)

    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    assert error["param"] == param


def test_the_upload_limit_is_enforced_without_a_content_length(
    gateway: ServiceProcess, key: str
) -> None:
    recording = media_files.wav(UPLOAD_LIMIT_MB * 25)
    boundary = "limit-check"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunked() -> Iterator[bytes]:  # a generator body is sent chunked, with no length
        yield head
        for start in range(0, len(recording), 65536):
            yield recording[start : start + 65536]
        yield tail

    answer = _post(
        gateway,
        key,
        "audio/transcriptions",
        content=chunked(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )

    assert answer.status_code == 413
    assert str(math.floor(UPLOAD_LIMIT_MB * 1024 * 1024)) in answer.json()["error"]["message"]
