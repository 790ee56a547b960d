"""The middleware's client to the gateway on its aiohttp transport, against a real server
on loopback (the fake upstream speaks the gateway's OpenAI routes): whole and streamed
answers, error statuses, a private CA over https, and transport failures mapped to
`GatewayUnreachable`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common.tls import SslContexts
from middleware.errors import GatewayHTTPError, GatewayUnreachable
from middleware.gateway_client import GatewayClient
from testing.fake_upstream import FIXED_TEXT, FakeUpstream, serve_in_thread
from tests.support.processes import free_port
from tests.support.tls import PrivatePki, make_private_pki


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(FakeUpstream()) as url:
        yield url


def _request(model: str, text: str = "hi", **extra: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


@pytest.mark.anyio
async def test_whole_answers_come_back_over_reused_connections(base_url: str) -> None:
    gateway = GatewayClient(base_url, timeout=10)
    try:
        for i in range(3):
            answer = await gateway.chat(_request("echo", f"turn {i}"), "Bearer k")  # type: ignore[arg-type]
            assert answer["choices"][0]["message"]["content"] == f"turn {i}"
        models = await gateway.get_raw("/v1/models", "Bearer k")
        assert models.status_code == 200
        assert models.json()["object"] == "list"
    finally:
        await gateway.aclose()


@pytest.mark.anyio
async def test_a_streamed_answer_arrives_chunk_by_chunk(base_url: str) -> None:
    gateway = GatewayClient(base_url, timeout=10)
    try:
        chunks = [
            chunk
            async for chunk in gateway.chat_stream(_request("fixed", stream=True), None)  # type: ignore[arg-type]
        ]
    finally:
        await gateway.aclose()
    text = "".join(
        c["choices"][0]["delta"].get("content") or ""  # type: ignore[index]
        for c in chunks
        if c.get("choices")
    )
    assert text == FIXED_TEXT
    assert len(chunks) > 2


@pytest.mark.anyio
async def test_an_error_status_keeps_its_status_and_body(base_url: str) -> None:
    gateway = GatewayClient(base_url, timeout=10)
    try:
        with pytest.raises(GatewayHTTPError) as caught:
            await gateway.chat(_request("error-429"), None)  # type: ignore[arg-type]
    finally:
        await gateway.aclose()
    assert caught.value.status == 429
    assert "error-429" in str(caught.value.body()["error"]["message"])  # type: ignore[index]


@pytest.mark.anyio
async def test_nothing_listening_is_unreachable() -> None:
    gateway = GatewayClient(f"http://127.0.0.1:{free_port()}", timeout=10)
    try:
        with pytest.raises(GatewayUnreachable):
            await gateway.chat(_request("fixed"), None)  # type: ignore[arg-type]
    finally:
        await gateway.aclose()


@pytest.mark.anyio
async def test_no_answer_within_the_timeout_is_unreachable(base_url: str) -> None:
    gateway = GatewayClient(base_url, timeout=0.3)
    try:
        with pytest.raises(GatewayUnreachable, match="timed out"):
            await gateway.chat(_request("hang"), None)  # type: ignore[arg-type]
    finally:
        await gateway.aclose()


@pytest.fixture(scope="module")
def private_pki(tmp_path_factory: pytest.TempPathFactory) -> PrivatePki:
    return make_private_pki(tmp_path_factory.mktemp("pki"), "gateway transport")


@pytest.mark.anyio
async def test_an_https_gateway_is_trusted_only_with_its_ca(private_pki: PrivatePki) -> None:
    with serve_in_thread(FakeUpstream(), tls=private_pki.server) as url:
        trusting = GatewayClient(url, timeout=10, verify=SslContexts({}).get(private_pki.ca_bundle))
        system_cas = GatewayClient(url, timeout=10)
        try:
            answer = await trusting.chat(_request("echo", "over tls"), None)  # type: ignore[arg-type]
            assert answer["choices"][0]["message"]["content"] == "over tls"
            with pytest.raises(GatewayUnreachable):
                await system_cas.chat(_request("echo"), None)  # type: ignore[arg-type]
        finally:
            await trusting.aclose()
            await system_cas.aclose()
