"""Signing keys made in the test, a JWKS served on loopback, and a token factory."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "toolrelay-gateway"
ISSUER = "http://127.0.0.1/realms/test"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if self.algorithm.startswith("ES"):
            raw = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            raw = RSAAlgorithm.to_jwk(public, as_dict=True)
        return {**raw, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "alice",
            "iat": now,
            "exp": now + 300,
            "realm_access": {"roles": ["AI_USER"]},
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers={"kid": self.kid})


def rsa_key(kid: str) -> SigningKey:
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


@dataclass
class Issuer:
    """The JWKS endpoint: what it publishes can be changed (rotation); fetches are counted."""

    published: list[SigningKey]
    fetches: int = 0
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, *keys: SigningKey) -> None:
        with self._lock:
            self.published = list(keys)

    def document(self) -> bytes:
        with self._lock:
            self.fetches += 1
            return json.dumps({"keys": [k.public_jwk() for k in self.published]}).encode()


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {
        "rsa": rsa_key("rsa-1"),
        "ec": ec_key("ec-1"),
        "rotated": rsa_key("rsa-2"),
        "impostor": rsa_key("rsa-1"),  # same kid as the real one, different key
        "stranger": rsa_key("nobody-knows-me"),
    }


@pytest.fixture(scope="module")
def issuer(keys: dict[str, SigningKey]) -> Iterator[Issuer]:
    state = Issuer(published=[keys["rsa"], keys["ec"]])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.document()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/certs"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)
