"""Image URLs that clients send are fetched by the gateway (Gemini, Ollama): never from
loopback, private, link-local or reserved addresses unless the operator allowed the host."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from common.netguard import AddressPolicy
from gateway.errors import BadRequestError
from gateway.providers.image_fetch import guarded_get
from tests.common.netguard.address_forms import REFUSED_HOSTS, AddressForm, form_id
from tests.reliability.stack import Stack

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAHnOqGQAAAABJRU5ErkJggg=="
)


class _Handler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("location", self.path.split("?to=", 1)[1])
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.send_header("content-length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("row", REFUSED_HOSTS, ids=form_id)
@pytest.mark.anyio
async def test_non_public_addresses_are_refused_by_default(row: AddressForm) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(BadRequestError) as caught:
            await guarded_get(http, AddressPolicy(), f"http://{row.host}/x.png", 5)
    assert caught.value.status_code == 400
    assert caught.value.code == "image_url_refused"
    assert row.reason in caught.value.message


@pytest.mark.anyio
async def test_allowed_host_is_fetched_and_redirects_are_rechecked(image_server: str) -> None:
    policy = AddressPolicy.from_allow_hosts(["127.0.0.1"])
    async with httpx.AsyncClient() as http:
        response = await guarded_get(http, policy, f"{image_server}/ok.png", 5)
        assert response.content == PNG
        with pytest.raises(BadRequestError):
            await guarded_get(
                http, policy, f"{image_server}/redirect?to=http://169.254.169.254/x", 5
            )


def test_gateway_refuses_metadata_image_url_in_openai_shape(
    stack: Stack, image_server: str
) -> None:
    key = stack.new_key()
    for url in ("http://169.254.169.254/latest/meta-data/iam", f"{image_server}/secret.png"):
        _Handler.hits.clear()
        response = httpx.post(
            f"{stack.url}/v1/chat/completions",
            headers={"authorization": f"Bearer {key}"},
            json={
                "model": "gemini-echo",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "describe"},
                            {"type": "image_url", "image_url": {"url": url}},
                        ],
                    }
                ],
            },
            timeout=30,
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "image_url_refused"
        assert _Handler.hits == []  # the loopback server was never contacted
