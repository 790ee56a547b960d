"""The fake's media endpoints through the official SDK: valid files out, strict forms in."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from testing.fake_upstream import media_files


def test_images_come_as_urls_that_serve_a_png_or_inline(
    client: OpenAI, control: httpx.Client
) -> None:
    by_url = client.images.generate(model="dall-e-3", prompt="a lighthouse", n=2)
    inline = client.images.generate(
        model="dall-e-2", prompt="a lighthouse", response_format="b64_json"
    )

    assert by_url.data is not None and len(by_url.data) == 2
    assert by_url.data[0].revised_prompt == "a lighthouse"
    fetched = control.get(str(by_url.data[0].url))
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.content == media_files.PNG
    assert inline.data is not None
    assert base64.b64decode(str(inline.data[0].b64_json)) == media_files.PNG
    assert by_url.usage is None


def test_gpt_image_models_report_token_usage(client: OpenAI) -> None:
    answer = client.images.generate(model="gpt-image-1", prompt="a red square", n=2)

    assert answer.usage is not None
    assert answer.usage.output_tokens == 2 * 272
    assert answer.usage.input_tokens == answer.usage.input_tokens_details.text_tokens > 0


def test_speech_is_decodable_audio_of_the_asked_format(client: OpenAI) -> None:
    text = "Thirty characters of speech..."
    wav = client.audio.speech.create(
        model="tts-1", voice="alloy", input=text, response_format="wav"
    )
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text
    ) as streamed:
        mp3 = b"".join(streamed.iter_bytes())
        content_type = streamed.headers["content-type"]

    assert wav.response.headers["content-type"] == "audio/wav"
    assert media_files.wav_seconds(wav.content) == pytest.approx(len(text) / 15, abs=1e-3)
    assert content_type == "audio/mpeg"
    assert mp3[:2] == b"\xff\xfb" and len(mp3) % 417 == 0


def test_a_transcription_reads_the_uploaded_wav(client: OpenAI, control: httpx.Client) -> None:
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=("meeting.wav", media_files.wav(2.5), "audio/wav"),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="en",
    )
    tokens = client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=("memo.wav", media_files.wav(1.0), "audio/wav")
    )

    assert verbose.duration == pytest.approx(2.5)
    assert "meeting.wav" in verbose.text and verbose.words
    assert verbose.usage is not None and verbose.usage.type == "duration"
    assert verbose.usage.seconds == 3
    assert tokens.usage is not None and tokens.usage.type == "tokens"
    assert tokens.usage.input_token_details is not None
    assert tokens.usage.input_token_details.audio_tokens == 10
    recorded = control.get("/__fake__/requests", params={"model": "whisper-1"}).json()["data"][-1]
    assert recorded["body"]["file"] == {
        "filename": "meeting.wav",
        "content_type": "audio/wav",
        "size": len(media_files.wav(2.5)),
    }
    assert recorded["body"]["timestamp_granularities[]"] == ["word", "segment"]
    assert recorded["body"]["language"] == "en"


def test_a_translation_as_subtitles(control: httpx.Client) -> None:
    answer = control.post(
        "/v1/audio/translations",
        data={"model": "whisper-1", "response_format": "vtt"},
        files={"file": ("talk.wav", media_files.wav(1.0), "audio/wav")},
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n")


@pytest.mark.parametrize(
    ("request_kwargs", "message"),
    [
        ({"json": {"model": "whisper-1"}}, "expected multipart/form-data"),
        ({"data": {"model": "whisper-1"}, "files": {"other": ("a", b"1")}}, "'file'"),
        (
            {"content": b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nw\r\n'},
            "Invalid multipart form",
        ),
        ({"data": {"model": "whisper-1"}, "files": {"file": ("a.wav", b"")}}, "empty"),
    ],
)
def test_a_broken_upload_is_refused(
    control: httpx.Client, request_kwargs: dict[str, object], message: str
) -> None:
    headers = {}
    if "content" in request_kwargs:  # a form cut off before its closing boundary
        headers["content-type"] = "multipart/form-data; boundary=b"
    answer = control.post(
        "/v1/audio/transcriptions",
        headers=headers,
        **request_kwargs,  # type: ignore[arg-type]
    )

    assert answer.status_code == 400
    assert message in answer.json()["error"]["message"]


def test_media_errors_follow_the_model_name(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.images.generate(model="dall-e-3+error-429", prompt="x")
    with pytest.raises(openai.InternalServerError):
        client.audio.speech.create(model="tts-1+error-500", voice="alloy", input="x")


def test_azure_media_urls_need_an_api_version(control: httpx.Client) -> None:
    path = "/openai/deployments/gpt-image-1/images/generations"
    missing = control.post(path, json={"prompt": "x"})
    answer = control.post(path, params={"api-version": "2025-04-01"}, json={"prompt": "x"})

    assert missing.status_code == 400
    assert answer.status_code == 200 and answer.json()["usage"]["output_tokens"] == 272


def test_moderation_flags_marked_inputs_and_rerank_ranks_by_overlap(
    client: OpenAI, control: httpx.Client
) -> None:
    moderated = client.moderations.create(model="omni-moderation-latest", input="[flag] x")
    ranked = control.post(
        "/v1/rerank",
        json={"model": "rr", "query": "red apple", "documents": ["green", "red apple", "apple"]},
    ).json()

    assert moderated.results[0].flagged and moderated.results[0].categories.violence
    assert [(r["index"], r["relevance_score"]) for r in ranked["results"]] == [
        (1, 1.0),
        (2, 0.5),
        (0, 0.0),
    ]
    assert ranked["usage"]["total_tokens"] > 0


def _gemini_media(
    control: httpx.Client, model: str, config: dict[str, Any], text: str = "Read this aloud."
) -> httpx.Response:
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}], "generationConfig": config}
    return control.post(f"/v1beta/models/{model}:generateContent", json=body)


def test_gemini_image_models_answer_an_inline_png_with_image_tokens(
    control: httpx.Client,
) -> None:
    config = {"responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "16:9"}}
    answer = _gemini_media(control, "gemini-2.5-flash-image", config).json()

    parts = answer["candidates"][0]["content"]["parts"]
    assert parts[0]["text"]
    assert parts[1]["inlineData"]["mimeType"] == "image/png"
    assert base64.b64decode(parts[1]["inlineData"]["data"]) == media_files.PNG
    details = answer["usageMetadata"]["candidatesTokensDetails"]
    assert {d["modality"] for d in details} == {"TEXT", "IMAGE"}


def test_gemini_tts_models_answer_a_pcm_tone(control: httpx.Client) -> None:
    text = "Fifteen chars. " * 2
    voice = {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}}
    config = {"responseModalities": ["AUDIO"], "speechConfig": voice}
    answer = _gemini_media(control, "gemini-2.5-flash-preview-tts", config, text).json()

    [part] = answer["candidates"][0]["content"]["parts"]
    assert part["inlineData"]["mimeType"] == "audio/L16;codec=pcm;rate=24000"
    pcm = base64.b64decode(part["inlineData"]["data"])
    assert len(pcm) == 2 * media_files.SAMPLE_RATE * 2  # two seconds of 16-bit samples
    assert any(pcm)
    assert answer["usageMetadata"]["candidatesTokensDetails"][0]["modality"] == "AUDIO"


@pytest.mark.parametrize(
    ("model", "config", "fragment"),
    [
        ("gemini-2.5-flash", {"responseModalities": ["IMAGE"]}, "does not support"),
        ("gemini-2.5-flash-image", {"responseModalities": ["AUDIO"]}, "does not support"),
        ("gemini-2.5-flash-preview-tts", {}, "only supports AUDIO"),
        ("gemini-2.5-flash-preview-tts", {"responseModalities": ["TEXT"]}, "does not support"),
        ("gemini-2.5-flash-preview-tts", {"responseModalities": ["VIDEO"]}, "invalid value"),
        (
            "gemini-2.5-flash-preview-tts",
            {
                "responseModalities": ["AUDIO"],
                "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "alloy"}}},
            },
            "unknown voice name",
        ),
        (
            "gemini-2.5-flash-image",
            {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "7:4"}},
            "aspect_ratio",
        ),
        (
            "gemini-2.5-flash-image",
            {"responseModalities": ["IMAGE"], "speechConfig": {}},
            "speech_config",
        ),
    ],
)
def test_gemini_media_requests_are_checked(
    control: httpx.Client, model: str, config: dict[str, Any], fragment: str
) -> None:
    response = _gemini_media(control, model, config)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and fragment in error["message"]


def test_imagen_predict_answers_sample_count_pngs(control: httpx.Client) -> None:
    body = {"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 2}}
    answer = control.post("/v1beta/models/imagen-4.0-generate-001:predict", json=body).json()

    images = [base64.b64decode(p["bytesBase64Encoded"]) for p in answer["predictions"]]
    assert images == [media_files.PNG] * 2


@pytest.mark.parametrize(
    ("model", "body", "fragment"),
    [
        ("gemini-2.5-flash", {"instances": [{"prompt": "x"}]}, "not supported for predict"),
        ("imagen-4.0-generate-001", {"instances": []}, "exactly one instance"),
        (
            "imagen-4.0-generate-001",
            {"instances": [{"prompt": "x"}], "parameters": {"sampleCount": 5}},
            "sampleCount",
        ),
        (
            "imagen-4.0-generate-001",
            {"instances": [{"prompt": "x"}], "parameters": {"aspectRatio": "3:2"}},
            "aspectRatio",
        ),
    ],
)
def test_imagen_predict_is_checked(
    control: httpx.Client, model: str, body: dict[str, Any], fragment: str
) -> None:
    response = control.post(f"/v1beta/models/{model}:predict", json=body)

    assert response.status_code == 400 and fragment in response.json()["error"]["message"]
