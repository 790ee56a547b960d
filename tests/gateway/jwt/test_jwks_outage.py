"""The JWKS endpoint down (a real loopback server answering 503): requests get a clear error
at once, and the endpoint sees one fetch per backoff interval, however many requests come."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import pytest

from gateway.jwt.jwks import JWKSCache, JWKSUnavailableError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class DownIssuer:
    def __init__(self) -> None:
        self.fetches = 0
        self.lock = threading.Lock()
        self.url = ""


@pytest.fixture
def down_issuer() -> Iterator[DownIssuer]:
    state = DownIssuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.fetches += 1
            self.send_response(503)
            self.send_header("content-length", "0")
            self.end_headers()

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


@pytest.mark.anyio
async def test_failed_fetch_is_cached_for_the_backoff(down_issuer: DownIssuer) -> None:
    clock = Clock()
    errors: list[JWKSUnavailableError] = []

    async def verify() -> None:
        try:
            await cache.key("rsa-1")
        except JWKSUnavailableError as exc:
            errors.append(exc)

    async with httpx.AsyncClient() as http:
        cache = JWKSCache(down_issuer.url, http, failure_backoff=5.0, clock=clock)
        async with anyio.create_task_group() as group:  # a burst, all behind one fetch
            for _ in range(20):
                group.start_soon(verify)
        assert len(errors) == 20
        assert {e.code for e in errors} == {"jwks_unavailable"}
        assert down_issuer.fetches == 1
        for _ in range(50):  # still inside the backoff: answered from memory
            with pytest.raises(JWKSUnavailableError):
                await cache.key("rsa-1")
        assert down_issuer.fetches == 1
        clock.now += 5.0
        with pytest.raises(JWKSUnavailableError):
            await cache.key("rsa-1")
        assert down_issuer.fetches == 2  # one more fetch per interval
