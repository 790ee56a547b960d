"""What a figure sends where: one target per server, the same request bytes for each."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from bench.rawhttp import build_request
from bench.services import MASTER_KEY

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Target:
    """`direct` is the fake upstream itself; the others are gateways in front of it."""

    name: str
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def chat_body(model: str, *, stream: bool = False) -> bytes:
    body: dict[str, object] = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
    }
    if stream:
        body["stream"] = True
    return orjson.dumps(body)


def chat_request(port: int, model: str, *, stream: bool = False) -> bytes:
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    return build_request(
        "POST", CHAT_PATH, f"127.0.0.1:{port}", chat_body(model, stream=stream), headers
    )


def rotate(items: list[Target], round_index: int) -> list[Target]:
    """Interleaved A/B rounds: each round starts with a different target, so slow drifts in
    machine load hit every target equally."""
    if not items:
        return []
    shift = round_index % len(items)
    return items[shift:] + items[:shift]
