"""A fake upstream and a gateway as real processes, with secrets the tests grep for later.

Models are `openai/<behaviour>` on the fake upstream, so the behaviour is readable at the call
site: `error-500`, `error-429`, `hang`, `disconnect`, `malformed`, `slow-stream-<ms>`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from testing.fake_upstream import command_args
from tests.support.processes import ServiceProcess, free_port, start_service

MASTER_KEY = "sk-rel-master-7f3a9c1e5b"
UPSTREAM_KEY = "sk-rel-upstream-2d8e6b4a0c"
BEHAVIOURS = (
    "echo",
    "error-500",
    "error-503",
    "error-429",
    "hang",
    "disconnect",
    "malformed",
    "slow-stream-20",
    "latency-300",
    "latency-1500",
    "scripted-injection",
)


def config_yaml(api_base: str, extra_general: str = "", batch_seconds: float = 0.2) -> str:
    entries = []
    for behaviour in BEHAVIOURS:
        entries.append(
            f"  - model_name: {behaviour}\n"
            "    litellm_params:\n"
            f"      model: openai/{behaviour}\n"
            f"      api_base: {api_base}/v1\n"
            "      api_key: os.environ/REL_UPSTREAM_KEY\n"
            + ("      timeout: 2\n      stream_timeout: 2\n" if behaviour == "hang" else "")
            + "      input_cost_per_token: 0.000001\n"
            "      output_cost_per_token: 0.000002"
        )
    entries.append(
        "  - model_name: gemini-echo\n"
        "    litellm_params:\n"
        "      model: gemini/echo\n"
        f"      api_base: {api_base}\n"
        "      api_key: os.environ/REL_UPSTREAM_KEY"
    )
    for provider in ("anthropic", "ollama"):
        entries.append(
            f"  - model_name: {provider}-echo\n"
            "    litellm_params:\n"
            f"      model: {provider}/echo\n"
            f"      api_base: {api_base}\n"
            "      api_key: os.environ/REL_UPSTREAM_KEY"
        )
    return (
        "model_list:\n"
        + "\n".join(entries)
        + "\n\nrouter_settings:\n  num_retries: 0\n"
        + "\ngeneral_settings:\n  master_key: os.environ/REL_MASTER_KEY\n"
        + f"  proxy_batch_write_at: {batch_seconds}\n"
        + extra_general
    )


@dataclass
class Stack:
    upstream: ServiceProcess
    gateway: ServiceProcess
    home: Path

    @property
    def url(self) -> str:
        return self.gateway.url

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"authorization": f"Bearer {MASTER_KEY}"}, timeout=30
        )

    def new_key(self, **fields: object) -> str:
        with self.admin() as client:
            response = client.post("/key/generate", json=fields)
            response.raise_for_status()
            return str(response.json()["key"])


def start_upstream(log_dir: Path) -> ServiceProcess:
    port = free_port()
    return start_service(
        "fake-upstream",
        command_args(port, require_key=UPSTREAM_KEY),
        port=port,
        log_dir=log_dir,
        health_path="/health",
    )


def start_gateway(
    log_dir: Path,
    upstream_url: str,
    home: Path,
    extra_general: str = "",
    env: dict[str, str] | None = None,
    batch_seconds: float = 0.2,
) -> ServiceProcess:
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = home / f"config-{port}.yaml"
    config.write_text(config_yaml(upstream_url, extra_general, batch_seconds))
    return start_service(
        "gateway",
        ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(port)],
        port=port,
        log_dir=log_dir,
        env={
            "REL_UPSTREAM_KEY": UPSTREAM_KEY,
            "REL_MASTER_KEY": MASTER_KEY,
            "TOOLRELAY_HOME": str(home),
            **(env or {}),
        },
    )


@contextmanager
def running_stack(log_dir: Path, extra_general: str = "") -> Iterator[Stack]:
    upstream = start_upstream(log_dir)
    try:
        home = log_dir / "home"
        gateway = start_gateway(log_dir, upstream.url, home, extra_general)
        try:
            yield Stack(upstream, gateway, home)
        finally:
            gateway.stop()
    finally:
        upstream.stop()


def spend_rows(stack: Stack, key: str) -> list[dict[str, object]]:
    with stack.admin() as client:
        response = client.get("/spend/logs", params={"api_key": key, "limit": "100000"})
        if response.status_code == 503:
            return []  # the database is still reconnecting; the caller polls again
        response.raise_for_status()
        rows: list[dict[str, object]] = response.json()
        return rows


def spend_request_count(stack: Stack, key: str) -> int:
    """How many requests of `key` have a stored spend row, from the daily rollups (written in
    the same transaction as the rows): `/spend/logs` returns at most 10,000 rows, which a
    long soak passes."""
    today = datetime.now(UTC).date()
    with stack.admin() as client:
        response = client.get(
            "/spend/logs",
            params={
                "api_key": key,
                "start_date": (today - timedelta(days=1)).isoformat(),
                "end_date": (today + timedelta(days=1)).isoformat(),
            },
        )
        if response.status_code == 503:
            return 0  # the database is still reconnecting; the caller polls again
        response.raise_for_status()
        return sum(int(day["requests"]) for day in response.json())


def wait_spend_rows(
    stack: Stack, key: str, expected: int, timeout: float = 20.0
) -> list[dict[str, object]]:
    """Spend is written in batches off the request path: poll until `expected` rows are in."""
    deadline = time.monotonic() + timeout
    rows = spend_rows(stack, key)
    while len(rows) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = spend_rows(stack, key)
    return rows
