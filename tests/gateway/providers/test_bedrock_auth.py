"""Where a bedrock/ deployment's region and credentials come from (litellm_params, the
environment, an AWS profile), the clear 400s when they are missing, and signatures that the
fake's botocore-based check accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import structlog

from gateway.deployments import Deployment
from gateway.errors import BadRequestError
from gateway.providers.bedrock_auth import (
    AwsAuthority,
    AwsKeys,
    Bearer,
    SigV4,
    Target,
    auth_headers,
    config_problem,
)
from testing.fake_upstream.formats.bedrock_sigv4 import PERMANENT, TEMPORARY, SignedRequest, check
from tests.gateway.store.databases import MASTER, admin, running_gateway

pytestmark = pytest.mark.anyio

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"


@pytest.fixture(autouse=True)
def no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """botocore's chain reads the real environment and ~/.aws: make both empty here."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never call the metadata endpoint


def deployment(model: str = MODEL, api_key: str | None = None, **params: Any) -> Deployment:
    return Deployment(
        id="d1",
        model_name="claude",
        provider="bedrock",
        model=model,
        api_key=api_key,
        extra_params=params,
    )


async def test_keys_from_litellm_params_sign_with_sigv4() -> None:
    target = await AwsAuthority({}).target(
        deployment(
            aws_access_key_id="AK",
            aws_secret_access_key="SK",
            aws_session_token="TOKEN",
            aws_region_name="eu-central-1",
        )
    )
    assert target == Target(
        "eu-central-1",
        "https://bedrock-runtime.eu-central-1.amazonaws.com",
        SigV4(AwsKeys("AK", "SK", "TOKEN")),
    )


async def test_region_comes_from_an_arn_then_the_environment() -> None:
    arn = "arn:aws:bedrock:ap-south-1:123456789012:inference-profile/apac.anthropic.claude-x"
    keys = {"aws_access_key_id": "AK", "aws_secret_access_key": "SK"}
    assert (await AwsAuthority({}).target(deployment(arn, **keys))).region == "ap-south-1"
    environ = {"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-1"}
    assert (await AwsAuthority(environ).target(deployment(**keys))).region == "us-east-2"
    environ["AWS_REGION_NAME"] = "sa-east-1"  # LiteLLM's own name wins
    assert (await AwsAuthority(environ).target(deployment(**keys))).region == "sa-east-1"


async def test_endpoint_overrides() -> None:
    keys = {"aws_access_key_id": "AK", "aws_secret_access_key": "SK", "aws_region_name": "r"}
    custom = deployment(aws_bedrock_runtime_endpoint="https://vpce.example/", **keys)
    assert (await AwsAuthority({}).target(custom)).endpoint == "https://vpce.example"
    environ = {"AWS_BEDROCK_RUNTIME_ENDPOINT": "http://127.0.0.1:1"}
    assert (await AwsAuthority(environ).target(deployment(**keys))).endpoint == "http://127.0.0.1:1"


async def test_the_standard_environment_variables_are_the_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENVAK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ENVSK")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "ENVTOKEN")
    target = await AwsAuthority({"AWS_REGION": "us-east-1"}).target(deployment())
    assert target.auth == SigV4(AwsKeys("ENVAK", "ENVSK", "ENVTOKEN"))


async def test_a_named_profile_gives_keys_and_region(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[team]\naws_access_key_id = PAK\naws_secret_access_key = PSK\n")
    config = tmp_path / "config"
    config.write_text("[profile team]\nregion = eu-north-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    target = await AwsAuthority({}).target(deployment(aws_profile_name="team"))
    assert (target.region, target.auth) == ("eu-north-1", SigV4(AwsKeys("PAK", "PSK")))


async def test_bedrock_api_keys_are_bearer_tokens() -> None:
    region = {"aws_region_name": "us-east-1"}
    direct = await AwsAuthority({}).target(deployment(api_key="bedrock-key", **region))
    assert direct.auth == Bearer("bedrock-key")
    environ = {"AWS_BEARER_TOKEN_BEDROCK": "env-key"}
    assert (await AwsAuthority(environ).target(deployment(**region))).auth == Bearer("env-key")


@pytest.mark.parametrize(
    ("params", "environ", "code", "fragment"),
    [
        ({"aws_access_key_id": "AK", "aws_secret_access_key": "SK"}, {}, "missing_aws_region", "aws_region_name"),
        ({"aws_region_name": "us-east-1"}, {}, "missing_aws_credentials", "AWS_ACCESS_KEY_ID"),
        ({"aws_access_key_id": "AK", "aws_region_name": "us-east-1"}, {}, "missing_aws_credentials", "aws_secret_access_key is missing"),
        ({"aws_role_name": "arn:aws:iam::1:role/x", "aws_region_name": "r"}, {}, "unsupported_aws_setting", "aws_role_name"),
        ({"aws_profile_name": "nowhere", "aws_region_name": "r"}, {}, "aws_credentials_error", "The config profile (nowhere) could not be found"),
    ],
)  # fmt: skip
async def test_missing_settings_are_a_clear_400(
    params: dict[str, Any], environ: dict[str, str], code: str, fragment: str
) -> None:
    with pytest.raises(BadRequestError) as refused:
        await AwsAuthority(environ).target(deployment(**params))
    assert refused.value.code == code
    assert fragment in refused.value.message and "'claude'" in refused.value.message


@pytest.mark.parametrize("known", [PERMANENT, TEMPORARY])
def test_signed_headers_pass_the_fakes_botocore_check(known: Any) -> None:
    keys = AwsKeys(known.access_key_id, known.secret_access_key, known.session_token)
    target = Target("us-west-2", "http://127.0.0.1:9", SigV4(keys))
    path = "/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse-stream"
    body = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
    headers = auth_headers(
        target, f"http://127.0.0.1:9{path}", body, {"content-type": "application/json"}
    )
    received = {name.lower(): value for name, value in headers.items()} | {"host": "127.0.0.1:9"}
    assert check(SignedRequest("POST", path, "", received, body)) is None
    wrong = AwsKeys(known.access_key_id, "not-the-secret", known.session_token)
    bad = auth_headers(
        Target("us-west-2", "http://127.0.0.1:9", SigV4(wrong)),
        f"http://127.0.0.1:9{path}",
        body,
        {"content-type": "application/json"},
    )
    received = {name.lower(): value for name, value in bad.items()} | {"host": "127.0.0.1:9"}
    problem = check(SignedRequest("POST", path, "", received, body))
    assert problem is not None and problem.error_type == "InvalidSignatureException"


@pytest.mark.parametrize(
    ("params", "environ", "problem"),
    [
        ({"aws_region_name": "us-east-1"}, {}, None),  # keys may come from the chain
        ({}, {"AWS_REGION": "us-east-1"}, None),
        ({}, {}, "no AWS region"),
        ({"aws_access_key_id": "AK", "aws_region_name": "r"}, {}, "only one of"),
        ({"aws_role_name": "x", "aws_region_name": "r"}, {}, "aws_role_name"),
        ({"aws_profile_name": "nowhere"}, {}, "The config profile (nowhere) could not be found"),
    ],
)
def test_config_problems_are_found_without_the_network(
    params: dict[str, Any], environ: dict[str, str], problem: str | None
) -> None:
    found = config_problem(deployment(**params), environ)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


async def test_the_gateway_names_a_misconfigured_deployment_at_start(tmp_path: Path) -> None:
    config = {
        "model_list": [
            {"model_name": "nova", "litellm_params": {"model": "bedrock/amazon.nova-lite-v1:0"}},
            {
                "model_name": "fine",
                "litellm_params": {
                    "model": "bedrock/amazon.nova-lite-v1:0",
                    "aws_region_name": "r",
                },
            },
        ],
        "general_settings": {"master_key": MASTER},
    }
    with structlog.testing.capture_logs() as logs:
        async with running_gateway(config, tmp_path) as (_app, client):
            refused = await client.post(
                "/v1/chat/completions",
                json={"model": "nova", "messages": [{"role": "user", "content": "hi"}]},
                headers=admin(),
            )
    warned = [e for e in logs if str(e["event"]).startswith("deployment misconfigured")]
    assert [(e["model_name"], e["provider"]) for e in warned] == [("nova", "bedrock")]
    assert "no AWS region" in warned[0]["problem"]
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "missing_aws_region"
