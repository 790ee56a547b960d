"""The fake's Bedrock format, checked by AWS's own client code: botocore signs and sends the
requests and parses the answers (JSON and event stream), so a fake that drifted from the real
wire format fails here; the fake's signature check refuses what AWS refuses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from testing.fake_upstream import eventstream
from testing.fake_upstream.formats.bedrock_sigv4 import (
    PERMANENT,
    TEMPORARY,
    TEST_API_KEY,
    KnownCredentials,
    SignedRequest,
    check,
)
from tests.support.processes import ServiceProcess

USER = {"role": "user", "content": [{"text": "hi bedrock"}]}
TOOLS = {
    "tools": [
        {
            "toolSpec": {
                "name": "get_weather",
                "inputSchema": {"json": {"type": "object", "properties": {}}},
            }
        }
    ]
}


def _client(url: str, credentials: KnownCredentials, secret: str | None = None) -> Any:
    return botocore.session.get_session().create_client(
        "bedrock-runtime",
        region_name="eu-west-1",
        endpoint_url=url,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=secret or credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def bedrock(upstream: ServiceProcess) -> Iterator[Any]:
    client = _client(upstream.url, PERMANENT)
    yield client
    client.close()


def test_botocore_reads_a_converse_answer(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId="echo",
        messages=[USER],
        system=[{"text": "Be brief."}],
        inferenceConfig={"maxTokens": 20, "temperature": 0.5},
    )
    assert answer["output"]["message"]["content"] == [{"text": "hi bedrock"}]
    assert answer["stopReason"] == "end_turn"
    usage = answer["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] > 0


def test_botocore_reads_a_streamed_tool_call(bedrock: Any) -> None:
    answer = bedrock.converse_stream(modelId="tool-call", messages=[USER], toolConfig=TOOLS)
    events = list(answer["stream"])
    kinds = [next(iter(event)) for event in events]
    assert kinds[0] == "messageStart" and kinds[-2:] == ["messageStop", "metadata"]
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    assert start["start"]["toolUse"]["name"] == "get_weather"
    pieces = [
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "contentBlockDelta" in e
    ]
    assert "".join(pieces) == "{}" and len(pieces) > 1
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"
    assert events[-1]["metadata"]["usage"]["outputTokens"] > 0


def test_a_tool_round_trip_is_validated(bedrock: Any) -> None:
    first = bedrock.converse(modelId="tool-call", messages=[USER], toolConfig=TOOLS)
    use = first["output"]["message"]["content"][0]["toolUse"]
    result = {"toolResult": {"toolUseId": use["toolUseId"], "content": [{"text": "sunny"}]}}
    history = [USER, first["output"]["message"], {"role": "user", "content": [result]}]
    second = bedrock.converse(modelId="fixed", messages=history, toolConfig=TOOLS)
    assert second["stopReason"] == "end_turn"
    wrong = {"toolResult": {"toolUseId": "tooluse_other", "content": [{"text": "x"}]}}
    with pytest.raises(ClientError) as refused:
        bedrock.converse(
            modelId="fixed",
            messages=[*history[:2], {"role": "user", "content": [wrong]}],
            toolConfig=TOOLS,
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as no_config:
        bedrock.converse(modelId="fixed", messages=history)
    assert "toolConfig field must be defined" in no_config.value.response["Error"]["Message"]


def test_roles_must_alternate(bedrock: Any) -> None:
    with pytest.raises(ClientError) as refused:
        bedrock.converse(modelId="echo", messages=[USER, USER])
    error = refused.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_scripted_errors_are_named_as_bedrock_names_them(bedrock: Any) -> None:
    with pytest.raises(ClientError) as throttled:
        bedrock.converse(modelId="error-429", messages=[USER])
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    with pytest.raises(ClientError) as too_long:
        bedrock.converse(modelId="context-window", messages=[USER])
    assert too_long.value.response["Error"]["Message"] == "Input is too long for requested model."


def test_temporary_credentials_need_their_session_token(upstream: ServiceProcess) -> None:
    client = _client(upstream.url, TEMPORARY)
    try:
        assert client.converse(modelId="echo", messages=[USER])["stopReason"] == "end_turn"
    finally:
        client.close()
    without_token = KnownCredentials(TEMPORARY.access_key_id, TEMPORARY.secret_access_key)
    client = _client(upstream.url, without_token)
    try:
        with pytest.raises(ClientError) as refused:
            client.converse(modelId="echo", messages=[USER])
        assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    finally:
        client.close()


@pytest.mark.parametrize(
    ("key_id", "secret", "code"),
    [
        (PERMANENT.access_key_id, "not-the-secret", "InvalidSignatureException"),
        ("AKIAUNKNOWNKEY000000", PERMANENT.secret_access_key, "UnrecognizedClientException"),
    ],
)
def test_bad_credentials_are_refused_as_aws_refuses_them(
    upstream: ServiceProcess, key_id: str, secret: str, code: str
) -> None:
    client = _client(upstream.url, KnownCredentials(key_id, secret))
    try:
        with pytest.raises(ClientError) as refused:
            client.converse(modelId="echo", messages=[USER])
    finally:
        client.close()
    assert refused.value.response["Error"]["Code"] == code
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def _signed(
    body: bytes = b"{}",
    *,
    service: str = "bedrock",
    when: datetime | None = None,
    path: str = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
) -> SignedRequest:
    request = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:9{path}",
        data=body,
        headers={"content-type": "application/json"},
    )
    signer = SigV4Auth(
        Credentials(PERMANENT.access_key_id, PERMANENT.secret_access_key), service, "us-east-1"
    )
    signer.add_auth(request)
    if when is not None:  # re-sign as if at another time
        request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        request.headers.replace_header("X-Amz-Date", request.context["timestamp"])
        del request.headers["Authorization"]
        canonical = signer.canonical_request(request)
        signature = signer.signature(signer.string_to_sign(request, canonical), request)
        signer._inject_signature_to_request(request, signature)
    headers = {k.lower(): str(v) for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:9"
    return SignedRequest("POST", path, "", headers, body)


def test_the_signature_covers_body_path_and_time() -> None:
    good = _signed(b'{"messages": []}')
    assert check(good) is None  # an escaped `:` in the model id is signed as sent
    tampered = SignedRequest(good.method, good.raw_path, "", good.headers, b'{"messages": [1]}')
    assert check(tampered) is not None
    assert check(SignedRequest("POST", "/model/other/converse", "", good.headers, good.body))
    stale = check(_signed(when=datetime.now(UTC) - timedelta(minutes=10)))
    assert stale is not None and "Signature expired" in stale.message
    wrong_service = check(_signed(service="s3"))
    assert wrong_service is not None and "scoped to correct service" in wrong_service.message
    missing = check(SignedRequest("POST", "/", "", {"host": "h"}, b""))
    assert missing is not None and missing.error_type == "MissingAuthenticationTokenException"


def test_bedrock_api_keys_are_bearer_tokens() -> None:
    key = {"authorization": f"Bearer {TEST_API_KEY}"}
    assert check(SignedRequest("POST", "/", "", key, b"")) is None
    assert check(SignedRequest("POST", "/", "", {"authorization": "Bearer nope"}, b"")) is not None


_header_names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).filter(
    lambda name: len(name.encode()) < 256
)


@given(
    headers=st.dictionaries(_header_names, st.text(max_size=40), max_size=4),
    payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=4),
    cut=st.integers(min_value=1, max_value=64),
)
def test_frames_decode_with_botocore_however_the_body_is_cut(
    headers: dict[str, str], payloads: list[bytes], cut: int
) -> None:
    body = b"".join(eventstream.encode_message(headers, payload) for payload in payloads)
    buffer = EventStreamBuffer()
    decoded = []
    for start in range(0, len(body), cut):
        buffer.add_data(body[start : start + cut])
        decoded += [(dict(m.headers), m.payload) for m in buffer]  # type: ignore[call-overload]
    assert decoded == [(headers, payload) for payload in payloads]


def test_event_and_exception_frames_carry_botocore_s_headers() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(eventstream.event("messageStart", b'{"role":"assistant"}'))
    buffer.add_data(eventstream.exception("throttlingException", b'{"message":"slow down"}'))
    first, second = list(buffer)
    assert first.headers[":event-type"] == "messageStart"  # type: ignore[index]
    assert second.headers[":message-type"] == "exception"  # type: ignore[index]
    assert second.to_response_dict()["status_code"] == 400
