"""The admin page's server side: static files, /model/info, and the narrow middleware proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from gateway.config import config_from_mapping

MASTER = "sk-ui-master"
AUTH = {"authorization": f"Bearer {MASTER}"}


def upstreams(request: httpx.Request) -> httpx.Response:
    # Plays the middleware behind the proxy.
    if request.url.host == "middleware.test":
        return httpx.Response(
            200,
            json={
                "path": request.url.path,
                "auth": request.headers.get("authorization"),
                "body": request.content.decode(),
            },
        )
    return httpx.Response(404)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    config = {
        "model_list": [
            {
                "model_name": "m",
                "litellm_params": {"model": "openai/m", "api_key": "sk-secret-upstream", "rpm": 5},
                "model_info": {"id": "dep-1", "mode": "chat"},
            }
        ],
        "general_settings": {"master_key": MASTER},
        "ui_settings": {"middleware_url": "http://middleware.test:4001"},
    }
    mock = httpx.AsyncClient(transport=httpx.MockTransport(upstreams))
    app = create_app(config_from_mapping(config, environ={}), http=mock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c
    await mock.aclose()


@pytest.mark.anyio
async def test_page_and_assets_are_served_without_external_references(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/ui")
    assert page.status_code == 200 and "<title>toolrelay admin</title>" in page.text
    for asset in ("/ui/static/app.js", "/ui/static/style.css"):
        response = await client.get(asset)
        assert response.status_code == 200
        assert "https://" not in response.text and "http://" not in response.text  # works offline
    assert "https://" not in page.text


@pytest.mark.anyio
async def test_model_info_lists_deployments_without_keys(client: httpx.AsyncClient) -> None:
    assert (await client.get("/model/info")).status_code == 401
    data = (await client.get("/model/info", headers=AUTH)).json()["data"]
    assert data[0]["model_name"] == "m"
    assert data[0]["litellm_params"] == {"model": "openai/m", "rpm": 5}
    assert data[0]["model_info"]["id"] == "dep-1"
    assert "sk-secret-upstream" not in str(data)


@pytest.mark.anyio
async def test_proxy_forwards_the_key_to_allowed_middleware_routes(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/ui/middleware/mcp/tools/call", json={"name": "t"}, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "path": "/mcp/tools/call",
        "auth": f"Bearer {MASTER}",
        "body": '{"name":"t"}',
    }


@pytest.mark.anyio
async def test_proxy_refuses_other_paths(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/middleware/metrics", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.anyio
async def test_page_and_assets_send_strict_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/ui", "/ui/static/app.js"):
        response = await client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
