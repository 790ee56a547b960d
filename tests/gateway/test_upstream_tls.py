"""TLS verification of upstreams against the fake upstream served over HTTPS by a private CA:
`ssl_verify` per deployment and in `litellm_settings`, `SSL_VERIFY`, `SSL_CERT_FILE`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from gateway.app import create_app
from gateway.config import ConfigError, config_from_mapping
from gateway.deployments import deployment_from_entry
from gateway.errors import UpstreamTlsError
from gateway.upstream_http import build_upstream_client
from gateway.upstream_tls import build_upstream_tls
from testing.fake_upstream import FakeUpstream, serve_in_thread
from tests.gateway.conftest import MASTER_KEY, start_gateway
from tests.gateway.store.databases import admin, gateway_config
from tests.support.processes import ServiceProcess
from tests.support.tls import PrivatePki, make_private_pki

USER = [{"role": "user", "content": "hello over TLS"}]
ANSWER = "Hello from the fake upstream."


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PrivatePki:
    return make_private_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def https_upstream(pki: PrivatePki) -> Iterator[str]:
    """https://127.0.0.1:PORT, its certificate signed by the private CA."""
    with serve_in_thread(FakeUpstream(), tls=pki.server) as url:
        yield url


@pytest.fixture(scope="module")
def second_https_upstream(pki: PrivatePki) -> Iterator[str]:
    with serve_in_thread(FakeUpstream(), tls=pki.server) as url:
        yield url


def _deployment(name: str, api_base: str, **params: object) -> dict[str, object]:
    return {
        "model_name": name,
        "litellm_params": {"model": "openai/fixed", "api_base": api_base, "api_key": "k", **params},
    }


@pytest.fixture(scope="module")
def gateway(
    pki: PrivatePki,
    https_upstream: str,
    second_https_upstream: str,
    tmp_path_factory: pytest.TempPathFactory,
    service_log_dir: Path,
) -> Iterator[ServiceProcess]:
    same_server_by_name = https_upstream.replace("127.0.0.1", "localhost")
    config = {
        "model_list": [
            _deployment("with-ca", f"{https_upstream}/v1", ssl_verify=str(pki.ca_bundle)),
            _deployment("without-ca", f"{same_server_by_name}/v1"),
            _deployment("unverified", f"{second_https_upstream}/v1", ssl_verify=False),
        ],
        "router_settings": {"num_retries": 0},
        "general_settings": {"master_key": MASTER_KEY},
    }
    service = start_gateway(config, tmp_path_factory.mktemp("gw-tls"), service_log_dir)
    yield service
    service.stop()


@pytest.fixture
def client(gateway: ServiceProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0) as c:
        yield c


def test_a_deployment_with_its_ca_bundle_works(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="with-ca", messages=USER)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == ANSWER
    stream = client.chat.completions.create(model="with-ca", messages=USER, stream=True)  # type: ignore[call-overload]
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == ANSWER


def test_without_the_ca_it_fails_closed_with_a_clear_error(client: openai.OpenAI) -> None:
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model="without-ca", messages=USER, stream=stream)  # type: ignore[call-overload]
        error = caught.value
        assert error.status_code == 502
        body = error.body
        assert isinstance(body, dict)
        assert body["code"] == "upstream_tls_error"
        assert body["type"] == "api_error"
        message = body["message"]
        assert "TLS certificate of upstream localhost:" in message
        assert "failed verification (unable to get local issuer certificate)" in message
        assert "set ssl_verify to that CA's bundle" in message
        assert "Traceback" not in message


def test_ssl_verify_false_works_and_warns_once_at_start(
    client: openai.OpenAI, gateway: ServiceProcess
) -> None:
    reply = client.chat.completions.create(model="unverified", messages=USER)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == ANSWER
    warnings = [line for line in gateway.log().splitlines() if "NOT verified" in line]
    assert len(warnings) == 1
    assert "unverified" in warnings[0] and "with-ca" not in warnings[0]


# -- the settings that apply to every upstream, on the shared client itself ----------------


async def _get(url: str, setting: bool | str | None, environ: dict[str, str]) -> int:
    tls = build_upstream_tls(setting, [], environ)
    client = build_upstream_client(
        max_connections=4, keepalive_expiry=5, timeout=httpx.Timeout(10.0), tls=tls
    )
    try:
        response = await client.get(f"{url}/health")
        return response.status_code
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_litellm_settings_ssl_verify_applies_to_every_upstream(
    https_upstream: str, pki: PrivatePki
) -> None:
    assert await _get(https_upstream, str(pki.ca_bundle), {}) == 200
    assert await _get(https_upstream, False, {}) == 200
    with pytest.raises(UpstreamTlsError, match="failed verification"):
        await _get(https_upstream, True, {})
    with pytest.raises(UpstreamTlsError, match="failed verification"):
        await _get(https_upstream, None, {})  # certifi's bundle: a private CA is not in it


@pytest.mark.anyio
async def test_environment_settings(https_upstream: str, pki: PrivatePki) -> None:
    ca = str(pki.ca_bundle)
    assert await _get(https_upstream, None, {"SSL_CERT_FILE": ca}) == 200
    assert await _get(https_upstream, None, {"REQUESTS_CA_BUNDLE": ca}) == 200
    assert await _get(https_upstream, None, {"SSL_VERIFY": ca}) == 200
    # SSL_VERIFY wins over the file's litellm_settings.ssl_verify, as in LiteLLM
    assert await _get(https_upstream, True, {"SSL_VERIFY": "false"}) == 200
    with pytest.raises(UpstreamTlsError):
        await _get(https_upstream, ca, {"SSL_VERIFY": "true"})


@pytest.mark.anyio
async def test_a_deployment_setting_applies_to_its_host_only(
    https_upstream: str, pki: PrivatePki
) -> None:
    config = config_from_mapping(
        {"model_list": [_deployment("own", f"{https_upstream}/v1", ssl_verify=str(pki.ca_bundle))]}
    )
    deployments = [deployment_from_entry(e, i) for i, e in enumerate(config.file.model_list)]
    tls = build_upstream_tls(None, deployments, {})
    client = build_upstream_client(
        max_connections=4, keepalive_expiry=5, timeout=httpx.Timeout(10.0), tls=tls
    )
    try:
        assert (await client.get(f"{https_upstream}/health")).status_code == 200
        by_name = https_upstream.replace("127.0.0.1", "localhost")
        with pytest.raises(UpstreamTlsError, match="upstream localhost:"):
            await client.get(f"{by_name}/health")
    finally:
        await client.aclose()


def test_bad_settings_are_config_errors_naming_the_key(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match=r"litellm_settings\.ssl_verify.*does not exist"):
        config_from_mapping({"litellm_settings": {"ssl_verify": str(missing)}})
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(
        ConfigError, match=r"(?i)model_list\[0\]\.litellm_params\.ssl_verify.*cannot load CA bundle"
    ):
        config_from_mapping(
            {"model_list": [_deployment("x", "https://h/v1", ssl_verify=str(garbage))]}
        )
    spelled = config_from_mapping({"litellm_settings": {"ssl_verify": "False"}})
    assert spelled.file.litellm_settings.ssl_verify is False
    assert not [w for w in spelled.warnings if "ssl_verify" in w]


@pytest.mark.anyio
async def test_a_stored_model_with_its_own_ca_bundle_works(
    https_upstream: str, pki: PrivatePki, tmp_path: Path
) -> None:
    """A model added through /model/new gets its host's TLS setting like a config model."""
    config = gateway_config(f"sqlite:///{tmp_path / 'store.db'}", store_model_in_db=True)
    config["model_list"] = config["model_list"][:1]
    app = create_app(config_from_mapping(config, environ={}), data_dir=tmp_path)
    new = _deployment("stored-tls", f"{https_upstream}/v1", ssl_verify=str(pki.ca_bundle))
    chat = {"model": "stored-tls", "messages": USER}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        made = await client.post("/model/new", headers=admin(), json=new)
        assert made.status_code == 200, made.text
        reply = await client.post("/v1/chat/completions", headers=admin(), json=chat)
        assert reply.status_code == 200, reply.text
        assert reply.json()["choices"][0]["message"]["content"] == ANSWER
        await client.post(
            "/model/update",
            headers=admin(),
            json={
                "model_info": {"id": made.json()["model_id"]},
                "litellm_params": {"ssl_verify": True},
            },
        )
        refused = await client.post("/v1/chat/completions", headers=admin(), json=chat)
        assert refused.status_code == 502, refused.text
        assert refused.json()["error"]["code"] == "upstream_tls_error"
