"""bedrock/ through a real gateway process, driven by the official `openai` SDK, in front of
the fake upstream's Bedrock endpoint, which checks every request's SigV4 signature with
botocore and answers in the real event-stream framing.

The config is written the way LiteLLM users write it: `aws_*` keys in litellm_params from
`os.environ/...`, or nothing and the standard `AWS_*` variables; `api_base` points at the fake.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from testing.fake_upstream import command_args
from testing.fake_upstream.formats.bedrock_sigv4 import PERMANENT, TEMPORARY
from tests.gateway.providers.stack import PNG_DATA_URL
from tests.support.processes import ServiceProcess, free_port, start_service

MASTER_KEY = "sk-gateway-bedrock-test"
NOVA = "amazon.nova-lite-v1:0"
CLAUDE = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
PROFILE_ARN = "arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/p1+echo"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def _entry(name: str, model: str, api_base: str, **params: str) -> str:
    lines = [
        f"  - model_name: {name}",
        "    litellm_params:",
        f"      model: bedrock/{model}",
        f"      api_base: {api_base}",
    ]
    lines += [f"      {key}: {value}" for key, value in params.items()]
    return "\n".join(lines)


def config_yaml(api_base: str) -> str:
    keys = {
        "aws_access_key_id": "os.environ/BEDROCK_ACCESS_KEY_ID",
        "aws_secret_access_key": "os.environ/BEDROCK_SECRET_ACCESS_KEY",
        "aws_region_name": "os.environ/BEDROCK_REGION",
    }
    temporary = {
        "aws_access_key_id": TEMPORARY.access_key_id,
        "aws_secret_access_key": json.dumps(TEMPORARY.secret_access_key),
        "aws_session_token": str(TEMPORARY.session_token),
        "aws_region_name": "eu-west-3",
    }
    wrong = {**keys, "aws_secret_access_key": "not-the-secret"}
    entries = [
        _entry("nova", NOVA, api_base, **keys),
        _entry("claude", CLAUDE, api_base, **keys),
        # the region comes from the ARN; its `/` is escaped in the signed path
        _entry(
            "profile",
            PROFILE_ARN,
            api_base,
            aws_access_key_id=PERMANENT.access_key_id,
            aws_secret_access_key="os.environ/BEDROCK_SECRET_ACCESS_KEY",
        ),
        _entry("echo-temporary", "converse/echo", api_base, **temporary),
        # no keys in litellm_params: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of the process
        _entry("echo-env", "echo", api_base, aws_region_name="ca-central-1"),
        _entry("wrong-secret", "echo", api_base, **wrong),
        _entry(
            "no-region",
            "echo",
            api_base,
            aws_access_key_id=PERMANENT.access_key_id,
            aws_secret_access_key="os.environ/BEDROCK_SECRET_ACCESS_KEY",
        ),
    ]
    return (
        "model_list:\n"
        + "\n".join(entries)
        + "\n\ngeneral_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n"
    )


@dataclass
class BedrockStack:
    upstream: ServiceProcess
    gateway: ServiceProcess

    def script(self, model: str, replies: list[dict[str, Any]]) -> None:
        body = {"model": model, "replies": replies}
        httpx.post(f"{self.upstream.url}/__fake__/script", json=body, timeout=10)

    def received(self, model: str) -> list[dict[str, Any]]:
        entries = httpx.get(f"{self.upstream.url}/__fake__/requests", timeout=10).json()["data"]
        return [e for e in entries if e["path"].startswith(f"/model/{model}/")]


@pytest.fixture(scope="module")
def stack(service_log_dir: Path) -> Iterator[BedrockStack]:
    upstream_port = free_port()
    upstream = start_service(
        "fake-upstream",
        command_args(upstream_port),
        port=upstream_port,
        log_dir=service_log_dir,
        health_path="/health",
    )
    try:
        config = service_log_dir / f"bedrock-config-{upstream_port}.yaml"
        config.write_text(config_yaml(upstream.url))
        port = free_port()
        missing = service_log_dir / "no-aws-files"
        gateway = start_service(
            "gateway",
            ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(port)],
            port=port,
            log_dir=service_log_dir,
            env={
                "GATEWAY_MASTER_KEY": MASTER_KEY,
                "BEDROCK_ACCESS_KEY_ID": PERMANENT.access_key_id,
                "BEDROCK_SECRET_ACCESS_KEY": PERMANENT.secret_access_key,
                "BEDROCK_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": PERMANENT.access_key_id,
                "AWS_SECRET_ACCESS_KEY": PERMANENT.secret_access_key,
                # nothing else of the machine's AWS setup may leak in
                "AWS_SESSION_TOKEN": "",
                "AWS_REGION": "",
                "AWS_DEFAULT_REGION": "",
                "AWS_REGION_NAME": "",
                "AWS_BEARER_TOKEN_BEDROCK": "",
                "AWS_CONFIG_FILE": str(missing / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(missing / "credentials"),
                "AWS_EC2_METADATA_DISABLED": "true",
            },
        )
        try:
            yield BedrockStack(upstream, gateway)
        finally:
            gateway.stop()
    finally:
        upstream.stop()


@pytest.fixture(scope="module")
def client(stack: BedrockStack) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{stack.gateway.url}/v1", api_key=MASTER_KEY, max_retries=0) as c:
        yield c


def test_chat_is_signed_and_translated(client: OpenAI, stack: BedrockStack) -> None:
    reply = client.chat.completions.create(
        model="echo-temporary",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello bedrock"},
        ],
        temperature=0.5,
        max_tokens=50,
        stop=["END"],
    )
    assert reply.choices[0].message.content == "hello bedrock"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.prompt_tokens > 0
    got = stack.received("echo")[-1]
    # signed for the deployment's region with the temporary key and its session token
    authorization = got["headers"]["authorization"]
    assert (
        authorization.startswith(f"AWS4-HMAC-SHA256 Credential={TEMPORARY.access_key_id}/")
        and "/eu-west-3/bedrock/aws4_request" in authorization
    )
    assert got["headers"]["x-amz-security-token"] == TEMPORARY.session_token
    assert got["path"] == "/model/echo/converse" and got["status"] == 200
    assert got["body"]["system"] == [{"text": "Be brief."}]
    assert got["body"]["inferenceConfig"] == {
        "maxTokens": 50,
        "temperature": 0.5,
        "stopSequences": ["END"],
    }


def test_an_inference_profile_arn(client: OpenAI, stack: BedrockStack) -> None:
    reply = client.chat.completions.create(
        model="profile", messages=[{"role": "user", "content": "via a profile"}]
    )
    assert reply.choices[0].message.content == "via a profile"
    got = stack.received("arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile")
    assert "/eu-central-1/bedrock/aws4_request" in got[-1]["headers"]["authorization"]
    assert got[-1]["path"] == f"/model/{PROFILE_ARN}/converse"


def test_streaming_reads_the_event_stream(client: OpenAI, stack: BedrockStack) -> None:
    stream = client.chat.completions.create(
        model="echo-env",
        messages=[{"role": "user", "content": "one two three four"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    got = stack.received("echo")[-1]
    assert got["path"] == "/model/echo/converse-stream"
    assert "/ca-central-1/bedrock/" in got["headers"]["authorization"]  # the env keys


def test_a_tool_call_round_trip(client: OpenAI, stack: BedrockStack) -> None:
    stack.script(
        CLAUDE,
        [
            {"tool_calls": [{"name": "get_weather", "arguments": '{"city": "Paris"}'}]},
            {"text": "It is sunny in Paris."},
        ],
    )
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    stream = client.chat.completions.create(
        model="claude", messages=messages, tools=[WEATHER], tool_choice="auto", stream=True
    )
    chunks = [c for c in stream if c.choices]
    calls = [tc for c in chunks for tc in c.choices[0].delta.tool_calls or []]
    assert calls[0].id and calls[0].function and calls[0].function.name == "get_weather"
    arguments = "".join(tc.function.arguments or "" for tc in calls if tc.function)
    assert json.loads(arguments) == {"city": "Paris"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"

    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": calls[0].id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny, 24 C"},
    ]
    answer = client.chat.completions.create(model="claude", messages=messages, tools=[WEATHER])
    assert answer.choices[0].message.content == "It is sunny in Paris."
    sent = stack.received(CLAUDE)[-1]["body"]
    assert sent["messages"][1]["content"] == [
        {"toolUse": {"toolUseId": calls[0].id, "name": "get_weather", "input": {"city": "Paris"}}}
    ]
    assert sent["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": calls[0].id, "content": [{"text": "sunny, 24 C"}]}}
    ]
    assert sent["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"


def test_a_tool_call_without_streaming(client: OpenAI, stack: BedrockStack) -> None:
    stack.script(
        CLAUDE, [{"tool_calls": [{"name": "get_weather", "arguments": '{"city": "Oslo"}'}]}]
    )
    answer = client.chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "Oslo?"}], tools=[WEATHER]
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Oslo"}  # type: ignore[union-attr]


def test_usage_is_priced_into_spend(client: OpenAI, stack: BedrockStack) -> None:
    created = httpx.post(
        f"{stack.gateway.url}/key/generate",
        json={"max_budget": 5.0},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    key = created.json()["key"]
    with OpenAI(base_url=f"{stack.gateway.url}/v1", api_key=key, max_retries=0) as user:
        reply = user.chat.completions.create(
            model="nova", messages=[{"role": "user", "content": "price me"}]
        )
    assert reply.usage is not None
    # amazon.nova-lite-v1:0 in the bundled price table: $0.06 in, $0.24 out per million
    expected = reply.usage.prompt_tokens * 0.06e-6 + reply.usage.completion_tokens * 0.24e-6
    assert expected > 0
    deadline = time.monotonic() + 30
    spend = 0.0
    while time.monotonic() < deadline:
        info = httpx.get(
            f"{stack.gateway.url}/key/info",
            params={"key": key},
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
            timeout=10,
        )
        spend = info.json()["info"]["spend"]
        if spend:
            break
        time.sleep(0.1)  # polling a condition: the spend row is written off the request path
    assert spend == pytest.approx(expected)


def test_a_wrong_secret_is_an_openai_authentication_error(
    client: OpenAI, stack: BedrockStack
) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        client.chat.completions.create(
            model="wrong-secret", messages=[{"role": "user", "content": "hi"}]
        )
    assert refused.value.status_code == 401
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["type"] == "authentication_error" and error["code"] == "invalid_api_key"
    assert "signature we calculated does not match" in error["message"]
    assert stack.received("echo")[-1]["status"] == 403  # AWS's answer, mapped


def test_a_missing_region_is_a_clear_400_not_a_500(client: OpenAI) -> None:
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(
                model="no-region", messages=[{"role": "user", "content": "hi"}], stream=stream
            )
        error = refused.value.body
        assert isinstance(error, dict) and error["code"] == "missing_aws_region"
        assert "aws_region_name" in error["message"]


def test_an_inline_image_reaches_bedrock_as_bytes(client: OpenAI, stack: BedrockStack) -> None:
    reply = client.chat.completions.create(
        model="nova",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is in this picture"},
                    {"type": "image_url", "image_url": {"url": PNG_DATA_URL}},
                ],
            }
        ],
    )
    assert reply.choices[0].finish_reason == "stop"
    content = stack.received(NOVA)[-1]["body"]["messages"][0]["content"]
    assert content == [
        {"text": "what is in this picture"},
        {"image": {"format": "png", "source": {"bytes": PNG_DATA_URL.split(",", 1)[1]}}},
    ]
