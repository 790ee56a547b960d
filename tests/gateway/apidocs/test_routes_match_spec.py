"""The gateway's OpenAPI description and its routes name the same operations, both ways: a
route added without a spec entry (or a spec entry left for a removed route) fails here."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from gateway.app import create_app
from gateway.config import config_from_mapping
from gateway.routes.openapi import TITLE, load_spec
from tests.support.openapi_routes import described_operations, served_operations

# Every optional route family switched on: OIDC and generic SSO sign-in, password sign-in.
ENV = {
    "GENERIC_CLIENT_ID": "toolrelay",
    "GENERIC_CLIENT_SECRET": "secret",
    "GENERIC_AUTHORIZATION_ENDPOINT": "http://idp.test/auth",
    "GENERIC_TOKEN_ENDPOINT": "http://idp.test/token",
    "GENERIC_USERINFO_ENDPOINT": "http://idp.test/userinfo",
    "PROXY_BASE_URL": "http://gateway.test",
    "UI_USERNAME": "admin",
    "UI_PASSWORD": "a-long-password",
}


def full_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = config_from_mapping({"general_settings": {"master_key": "sk-spec"}}, environ=ENV)
    return create_app(config, access_log=False, data_dir=tmp_path)


def test_every_served_route_is_described_and_every_described_path_is_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    app = full_app(tmp_path)
    served = served_operations(app.routes)
    described = described_operations(load_spec())
    assert sorted(served - described) == [], "served but missing from gateway/openapi.yaml"
    assert sorted(described - served) == [], "described in gateway/openapi.yaml but not served"


def test_a_route_added_without_a_spec_entry_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    app = full_app(tmp_path)

    async def extra(_request: object) -> None:
        return None

    app.router.routes.append(Route("/key/undocumented", extra, methods=["POST"]))
    missing = served_operations(app.routes) - described_operations(load_spec())
    assert missing == {("/key/undocumented", "post")}


@pytest.mark.anyio
async def test_docs_pages_and_assets_are_served_locally(tmp_path: Path) -> None:
    app = full_app(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        docs = await c.get("/docs")
        redoc = await c.get("/redoc")
        spec = (await c.get("/openapi.json")).json()
        assert docs.status_code == redoc.status_code == 200
        for page in (docs, redoc):
            assert "http://" not in page.text and "https://" not in page.text
            assert "script-src 'self'" in page.headers["content-security-policy"]
        for asset in (
            "/docs/assets/swagger-ui/swagger-ui-bundle.js",
            "/docs/assets/swagger-ui/swagger-ui.css",
            "/docs/assets/redoc/redoc.standalone.js",
            "/docs/assets/toolrelay/swagger-start.js",
        ):
            assert (await c.get(asset)).status_code == 200, asset
        assert f"<title>{TITLE}" in docs.text
        missing = await c.get("/docs/assets/swagger-ui/nope.js")
        assert missing.status_code == 404 and missing.json()["error"]["message"]
    assert (
        spec["paths"]["/chat/completions"]["post"]["operationId"]
        != (spec["paths"]["/v1/chat/completions"]["post"]["operationId"])
    )


def test_the_docs_title_is_the_specs() -> None:
    """The spec is parsed at its first request; /docs names it with this constant meanwhile."""
    assert load_spec()["info"]["title"] == TITLE
