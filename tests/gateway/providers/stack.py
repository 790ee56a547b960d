"""A real fake upstream and a real gateway process in front of it, configured with a LiteLLM
`config.yaml` that mixes `anthropic/`, `gemini/`, `azure/`, `ollama/`, `ollama_chat/`,
`openai/`, `cohere/` and `vertex_ai/` entries, written the way LiteLLM users write them (keys
from `os.environ/...`; Vertex's a throwaway service account the fake's token endpoint knows).

Model names are `<provider>-<behaviour>`: `anthropic-echo` is `anthropic/echo`, whose fake
behaviour is chosen by the upstream model name `echo`.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson

from testing.fake_upstream import command_args
from tests.gateway.providers.google_keys import new_service_account
from tests.support.processes import ServiceProcess, free_port, start_service

MASTER_KEY = "sk-gateway-test"
UPSTREAM_KEY = "sk-upstream-test"
AZURE_API_VERSION = "2024-10-21"
PROVIDERS = (
    "anthropic",
    "gemini",
    "azure",
    "ollama",
    "ollama_chat",
    "openai",
    "cohere",
    "vertex_ai",
)
BEHAVIOURS = (
    "echo",
    "tool-call",
    "parallel-tool-calls",
    "error-400",
    "error-401",
    "error-403",
    "error-404",
    "error-429",
    "error-500",
    "error-503",
    "error-529",
    "context-window",
    "content-policy",
    "scripted",
    "hang",
    "malformed",
    "disconnect",
    "echo+sse-multiline",  # every SSE event's JSON split over several `data:` lines
)
# A 1x1 PNG: what the image tests send, inline and from a loopback URL.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAHnOqGQAAAABJRU5ErkJggg=="
)
PNG_DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


def _entry(provider: str, behaviour: str, api_base: str) -> str:
    lines = [
        f"  - model_name: {provider}-{behaviour}",
        "    litellm_params:",
        f"      model: {provider}/{behaviour}",
    ]
    if provider == "openai":
        lines.append(f"      api_base: {api_base}/v1")
    elif provider == "azure":
        lines.append(f"      api_base: {api_base}")
        lines.append("      api_version: os.environ/AZURE_API_VERSION")
    elif provider == "vertex_ai":
        # a throwaway service account registered with the fake's token endpoint
        lines.append(f"      api_base: {api_base}")
        lines.append("      vertex_location: us-central1")
        lines.append("      vertex_credentials: os.environ/VERTEX_CREDENTIALS")
    else:
        lines.append(f"      api_base: {api_base}")
    if behaviour == "hang":
        lines += ["      timeout: 1", "      stream_timeout: 1"]
    if not provider.startswith(("ollama", "vertex_ai")):
        lines.append("      api_key: os.environ/UPSTREAM_API_KEY")
    return "\n".join(lines)


def config_yaml(api_base: str, *, drop_params: bool = False) -> str:
    entries = [_entry(p, b, api_base) for p in PROVIDERS for b in BEHAVIOURS]
    entries += [
        _entry(p, "text-embedding-fake", api_base) for p in ("gemini", "azure", "ollama", "cohere")
    ]
    return (
        "model_list:\n"
        + "\n".join(entries)
        + f"\n\nlitellm_settings:\n  drop_params: {str(drop_params).lower()}\n"
        + "\ngeneral_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n"
        # the loopback image server stands in for a host the operator allowed
        + "  image_fetch_allow_hosts: ['127.0.0.1']\n"
    )


class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/pixel.png":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.send_header("content-length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def image_server() -> Iterator[str]:
    """A loopback HTTP server for image URLs, so no test fetches from the internet."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pixel.png"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Stack:
    upstream: ServiceProcess
    gateway: ServiceProcess
    image_url: str

    @property
    def gateway_url(self) -> str:
        return self.gateway.url

    def received(self, needle: str) -> dict[str, Any]:
        """The latest request the fake upstream received for a model (by path or body)."""
        entries = httpx.get(f"{self.upstream.url}/__fake__/requests", timeout=10).json()["data"]
        for entry in reversed(entries):
            body = entry.get("body")
            model = body.get("model") if isinstance(body, dict) else None
            if model == needle or f"/{needle}:" in entry["path"] or f"/{needle}/" in entry["path"]:
                return dict(entry)
        raise AssertionError(f"the fake upstream received nothing for {needle!r}")

    def script(self, model: str, replies: list[dict[str, Any]]) -> None:
        response = httpx.post(
            f"{self.upstream.url}/__fake__/script",
            json={"model": model, "replies": replies},
            timeout=10,
        )
        response.raise_for_status()


@contextmanager
def running_stack(log_dir: Path, *, drop_params: bool = False) -> Iterator[Stack]:
    upstream_port = free_port()
    upstream = start_service(
        "fake-upstream",
        command_args(upstream_port, require_key=UPSTREAM_KEY),
        port=upstream_port,
        log_dir=log_dir,
        health_path="/health",
    )
    try:
        vertex_key = new_service_account(f"{upstream.url}/token")
        vertex_key.register(upstream.url)
        config = log_dir / f"litellm-config-{upstream_port}.yaml"
        config.write_text(config_yaml(upstream.url, drop_params=drop_params))
        port = free_port()
        gateway = start_service(
            "gateway",
            ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(port)],
            port=port,
            log_dir=log_dir,
            env={
                "UPSTREAM_API_KEY": UPSTREAM_KEY,
                "AZURE_API_VERSION": AZURE_API_VERSION,
                "GATEWAY_MASTER_KEY": MASTER_KEY,
                "VERTEX_CREDENTIALS": orjson.dumps(vertex_key.info).decode(),
            },
        )
        try:
            with image_server() as image_url:
                yield Stack(upstream, gateway, image_url)
        finally:
            gateway.stop()
    finally:
        upstream.stop()
