"""OpenAI image and speech bodies to Gemini `generateContent` requests, and Gemini's answers
back: sizes to aspect ratios, voices, the PCM sample rate from the mimeType, and every answer
that cannot be turned into an image or audio refused with a typed error."""

from __future__ import annotations

import base64
import io
import wave
from typing import Any

import pytest

from gateway.errors import BadGatewayError, BadRequestError, ContentPolicyViolationError
from gateway.providers.gemini_media import (
    OPENAI_VOICES,
    image_request,
    imagen_answer,
    imagen_request,
    images_answer,
    speech_answer,
    speech_format,
    speech_request,
)

PCM = bytes(range(256)) * 4  # 512 16-bit samples


def answer(*parts: dict[str, Any], finish: str = "STOP", **usage: int) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"parts": list(parts), "role": "model"}, "finishReason": finish}
        ],
        "usageMetadata": usage,
    }


def inline(mime_type: str, data: bytes | str) -> dict[str, Any]:
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
    return {"inlineData": {"mimeType": mime_type, "data": encoded}}


@pytest.mark.parametrize(
    ("size", "ratio"),
    [("1024x1024", "1:1"), ("1536x1024", "3:2"), ("1024x1792", "9:16"), ("2560x1080", "21:9")],
)
def test_a_size_becomes_the_nearest_aspect_ratio(size: str, ratio: str) -> None:
    request = image_request({"prompt": "p", "size": size})
    assert request["generationConfig"]["imageConfig"] == {"aspectRatio": ratio}


def test_no_size_or_auto_sends_no_image_config() -> None:
    for body in ({"prompt": "p"}, {"prompt": "p", "size": "auto"}):
        assert "imageConfig" not in image_request(body)["generationConfig"]


@pytest.mark.parametrize("size", ["big", "0x10", "10x", "x10"])
def test_a_malformed_size_is_a_400(size: str) -> None:
    with pytest.raises(BadRequestError) as raised:
        image_request({"prompt": "p", "size": size})
    assert raised.value.param == "size"


def test_images_from_several_answers_sum_their_usage() -> None:
    one = answer(
        {"text": "caption"},
        inline("image/png", b"png-bytes"),
        promptTokenCount=7,
        candidatesTokenCount=1300,
    )
    result = images_answer([one, one], created=5)

    assert [base64.b64decode(d["b64_json"]) for d in result["data"]] == [b"png-bytes"] * 2
    assert result["usage"]["input_tokens"] == 14 and result["usage"]["output_tokens"] == 2600
    assert result["created"] == 5


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            answer({"text": "I cannot draw that."}, finish="IMAGE_SAFETY"),
            ContentPolicyViolationError,
        ),
        ({"promptFeedback": {"blockReason": "SAFETY"}}, ContentPolicyViolationError),
        (answer({"text": "only words"}), BadGatewayError),
        (answer(inline("image/png", "not base64!")), BadGatewayError),
        (answer(inline("audio/L16;rate=24000", PCM)), BadGatewayError),
        ({"candidates": ["not an object"]}, BadGatewayError),
    ],
)
def test_an_answer_without_a_usable_image_is_a_typed_error(
    response: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        images_answer([response], created=0)


def test_speech_maps_openai_voices_and_passes_gemini_names_through() -> None:
    def voice_of(voice: Any) -> str:
        request = speech_request({"input": "hi", "voice": voice}, drop_params=False)
        config = request["generationConfig"]["speechConfig"]["voiceConfig"]
        return str(config["prebuiltVoiceConfig"]["voiceName"])

    assert voice_of("alloy") == OPENAI_VOICES["alloy"]
    assert voice_of({"id": "Shimmer"}) == OPENAI_VOICES["shimmer"]
    assert voice_of("Sadachbia") == "Sadachbia"


def test_speed_is_refused_unless_params_may_be_dropped() -> None:
    body = {"input": "hi", "voice": "alloy", "speed": 1.5}
    with pytest.raises(BadRequestError) as raised:
        speech_request(body, drop_params=False)
    assert raised.value.param == "speed"
    assert speech_request(body, drop_params=True)["contents"][0]["parts"] == [{"text": "hi"}]


def test_speech_formats_default_to_wav_and_refuse_compressed_ones() -> None:
    assert speech_format({}) == "wav"
    assert speech_format({"response_format": "pcm"}) == "pcm"
    with pytest.raises(BadRequestError) as raised:
        speech_format({"response_format": "opus"})
    assert "wav or pcm" in raised.value.message


def test_the_wav_takes_the_sample_rate_of_the_mime_type() -> None:
    response = answer(
        inline("audio/L16;codec=pcm;rate=16000", PCM[:512]),
        inline("audio/L16;codec=pcm;rate=16000", PCM[512:]),
        promptTokenCount=3,
        candidatesTokenCount=40,
    )
    spoken = speech_answer(response, "wav")

    with wave.open(io.BytesIO(spoken.audio)) as recording:
        assert recording.getframerate() == 16_000
        assert recording.readframes(recording.getnframes()) == PCM
    assert spoken.usage["input_tokens"] == 3 and spoken.usage["output_tokens"] == 40
    assert speech_answer(response, "pcm").content_type == "audio/pcm;rate=16000"


@pytest.mark.parametrize(
    "response",
    [
        answer(inline("audio/mpeg", b"\xff\xfb")),
        answer(inline("audio/L16;rate=24000", PCM), inline("audio/L16;rate=16000", PCM)),
        answer({"text": "no audio"}),
    ],
)
def test_audio_that_is_not_one_pcm_stream_is_a_502(response: dict[str, Any]) -> None:
    with pytest.raises(BadGatewayError):
        speech_answer(response, "wav")


def test_imagen_takes_n_as_sample_count_and_its_own_aspect_ratios() -> None:
    request = imagen_request({"prompt": "p", "n": 2, "size": "1536x1024"})
    assert request == {
        "instances": [{"prompt": "p"}],
        "parameters": {"sampleCount": 2, "aspectRatio": "4:3"},
    }
    with pytest.raises(BadRequestError):
        imagen_request({"prompt": "p", "response_format": "url"})


def test_imagen_with_every_image_filtered_is_a_content_policy_error() -> None:
    encoded = base64.b64encode(b"png").decode()
    assert imagen_answer({"predictions": [{"bytesBase64Encoded": encoded}]}, 1)["data"] == [
        {"b64_json": encoded}
    ]
    with pytest.raises(ContentPolicyViolationError):
        imagen_answer({}, 1)
    with pytest.raises(BadGatewayError):
        imagen_answer({"predictions": [{"bytesBase64Encoded": "not base64!"}]}, 1)
