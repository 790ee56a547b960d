"""A fake OIDC provider on loopback: auto-approving authorize, PKCE-checking token, JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.gateway.jwt.conftest import AUDIENCE, SigningKey, rsa_key
from tests.support.processes import ServiceProcess

CLIENT_ID = "toolrelay-admin"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Provider:
    key: SigningKey
    url: str = ""
    roles: list[str] = field(default_factory=lambda: ["AI_ADMIN"])  # the next user's roles
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authorize(self, query: dict[str, str]) -> str:
        """Approve at once (the user is 'logged in'); return where to send the browser."""
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {**query, "roles": list(self.roles)}
        back = {"code": code, "state": query.get("state", "")}
        return f"{query['redirect_uri']}?{urlencode(back)}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown code"}
        if (
            form.get("client_id") != grant["client_id"]
            or form.get("redirect_uri") != grant["redirect_uri"]
        ):
            return 400, {
                "error": "invalid_grant",
                "error_description": "client or redirect mismatch",
            }
        if (
            grant.get("code_challenge_method") != "S256"
            or s256(form.get("code_verifier", "")) != grant["code_challenge"]
        ):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        token = self.key.token(sub="sso-admin", realm_access={"roles": grant["roles"]})
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 300}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    state = Provider(key=rsa_key("sso-key"))

    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/certs":
                self._json(200, {"keys": [state.key.public_jwk()]})
                return
            if parts.path == "/authorize":
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                self.send_response(302)
                self.send_header("location", state.authorize(query))
                self.send_header("content-length", "0")
                self.end_headers()
                return
            self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            self._json(*state.token(form))

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def gateway(
    provider: Provider,
    fake_upstream: ServiceProcess,
    tmp_path_factory: pytest.TempPathFactory,
    service_log_dir: Path,
) -> Iterator[ServiceProcess]:
    config = {
        "model_list": [
            {
                "model_name": "gpt-echo",
                "litellm_params": {
                    "model": "openai/echo",
                    "api_base": f"{fake_upstream.url}/v1",
                    "api_key": UPSTREAM_KEY,
                },
            }
        ],
        "general_settings": {
            "master_key": MASTER_KEY,
            "enable_jwt_auth": True,
            "litellm_jwtauth": {"public_key_url": f"{provider.url}/certs", "audience": AUDIENCE},
        },
    }
    env = {
        "GENERIC_CLIENT_ID": CLIENT_ID,
        "GENERIC_AUTHORIZATION_ENDPOINT": f"{provider.url}/authorize",
        "GENERIC_TOKEN_ENDPOINT": f"{provider.url}/token",
        "GENERIC_SCOPE": "openid profile",
    }
    service = start_gateway(config, tmp_path_factory.mktemp("oidc"), service_log_dir, env=env)
    yield service
    service.stop()
