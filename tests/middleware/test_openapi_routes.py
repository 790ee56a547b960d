"""The middleware's OpenAPI description and its routes name the same operations, both ways,
and its API docs are served with local assets."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from common.config import document_from_mapping
from middleware.app import create_app
from middleware.routes.openapi import load_spec
from middleware.settings import settings_from_config
from tests.support.openapi_routes import described_operations, served_operations


def app() -> Starlette:
    config = document_from_mapping(
        {"middleware_settings": {"gateway_url": "http://gw.test"}}, environ={}
    )
    return create_app(settings_from_config(config), public_url="http://127.0.0.1:4001")


def test_every_served_route_is_described_and_every_described_path_is_served() -> None:
    served = served_operations(app().routes)
    described = described_operations(load_spec())
    assert sorted(served - described) == [], "served but missing from middleware/openapi.yaml"
    assert sorted(described - served) == [], "described in middleware/openapi.yaml but not served"


@pytest.mark.anyio
async def test_docs_are_served_with_local_assets() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://mw") as client:
        docs = await client.get("/docs")
        assert docs.status_code == 200 and "toolrelay middleware" in docs.text
        assert "https://" not in docs.text
        assert (await client.get("/redoc")).status_code == 200
        bundle = await client.get("/docs/assets/swagger-ui/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
        missing = await client.get("/docs/assets/redoc/nope.js")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.anyio
async def test_an_unknown_path_is_a_json_404() -> None:
    # schemathesis found it: `/docs/assets/redoc/..` normalises to a path no route serves
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://middleware") as client:
        response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"
