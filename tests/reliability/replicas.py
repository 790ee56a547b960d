"""Two gateway replicas as real processes sharing one PostgreSQL database (made for the test)
and Redis (directly, or through a test-owned TCP proxy), plus the load and the checks the
crash and outage tests share.

Models: `echo` answers at once; `held` (`latency-30000`) keeps a request in flight long enough
to SIGKILL the replica that holds it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import asyncpg
import httpx
import redis
from sqlalchemy.engine import make_url

from gateway.limits.redis_counters import namespace_for
from gateway.store.database import database_url_for
from tests.reliability.stack import MASTER_KEY, UPSTREAM_KEY, start_upstream
from tests.support.components import POSTGRES_DSN, REDIS_URL, require_component, tcp_port_open
from tests.support.processes import ServiceProcess, free_port, start_service

HELD_SECONDS = 30


def replica_config(api_base: str) -> str:
    models = {"echo": "echo", "held": f"latency-{HELD_SECONDS * 1000}"}
    entries = "".join(
        f"  - model_name: {name}\n"
        "    litellm_params:\n"
        f"      model: openai/{behaviour}\n"
        f"      api_base: {api_base}/v1\n"
        "      api_key: os.environ/REL_UPSTREAM_KEY\n"
        "      input_cost_per_token: 0.000001\n"
        "      output_cost_per_token: 0.000002\n"
        for name, behaviour in models.items()
    )
    return (
        f"model_list:\n{entries}\n"
        "router_settings:\n  num_retries: 0\n"
        "general_settings:\n  master_key: os.environ/REL_MASTER_KEY\n"
        "  proxy_batch_write_at: 0.2\n"
    )


async def _admin_sql(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def scratch_database() -> Iterator[str]:
    require_component(tcp_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    require_component(tcp_port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    name = f"rel_{uuid.uuid4().hex[:12]}"
    anyio.run(_admin_sql, f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        anyio.run(_admin_sql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Replicas:
    upstream: ServiceProcess
    gateways: list[ServiceProcess]

    def admin(self, index: int = 0) -> httpx.Client:
        return httpx.Client(
            base_url=self.gateways[index].url,
            headers={"authorization": f"Bearer {MASTER_KEY}"},
            timeout=30,
        )

    def new_key(self, **fields: object) -> str:
        with self.admin() as client:
            response = client.post("/key/generate", json=fields)
            response.raise_for_status()
            return str(response.json()["key"])

    def kill(self, index: int) -> None:
        """SIGKILL the replica's whole process group: no shutdown hook runs."""
        process = self.gateways[index].process
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def spend_rows(self, key: str, via: int = 1) -> list[dict[str, object]]:
        with self.admin(via) as client:
            response = client.get("/spend/logs", params={"api_key": key, "limit": "100000"})
            response.raise_for_status()
            rows: list[dict[str, object]] = response.json()
            return rows

    def key_spend(self, key: str, via: int = 1) -> float:
        with httpx.Client(base_url=self.gateways[via].url, timeout=30) as client:
            response = client.get("/key/info", headers={"authorization": f"Bearer {key}"})
            response.raise_for_status()
            return float(response.json()["info"]["spend"])


@contextmanager
def two_replicas(tmp_path: Path, database: str, redis_url: str) -> Iterator[Replicas]:
    upstream = start_upstream(tmp_path)
    gateways: list[ServiceProcess] = []
    namespace = f"toolrelay-test:{uuid.uuid4().hex}"
    try:
        for index in range(2):
            home = tmp_path / f"replica-{index}"
            home.mkdir(parents=True)
            port = free_port()
            config = home / "config.yaml"
            config.write_text(replica_config(upstream.url))
            gateways.append(
                start_service(
                    f"gateway-{index}",
                    ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(port)],
                    port=port,
                    log_dir=tmp_path,
                    env={
                        "REL_UPSTREAM_KEY": UPSTREAM_KEY,
                        "REL_MASTER_KEY": MASTER_KEY,
                        "TOOLRELAY_HOME": str(home),
                        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
                        "REDIS_URL": redis_url,
                        "TOOLRELAY_ROUTER_NAMESPACE": namespace,
                    },
                )
            )
        yield Replicas(upstream, gateways)
    finally:
        for gateway in gateways:
            gateway.stop()
        upstream.stop()
        _forget_shared_state(database, namespace)


def _forget_shared_state(database: str, router_namespace: str) -> None:
    """Delete the Redis keys this test's replicas made (and only those: Redis is shared)."""
    dsn = database_url_for(f"postgresql://postgres@127.0.0.1:5432/{database}", Path("."))
    limits = namespace_for(make_url(dsn).render_as_string(hide_password=True))
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for pattern in (f"{limits}:*", f"{router_namespace}:*"):
            stale = list(client.scan_iter(match=pattern, count=10_000))
            if stale:
                client.delete(*stale)
    finally:
        client.close()


@dataclass
class Answer:
    replica: int
    request_id: str
    status: int  # 0: no HTTP answer (the replica was gone)
    seconds: float


@dataclass
class Load:
    """`clients` threads, each sending chat requests round-robin over the live replicas, with
    its own request id on each, until stopped."""

    replicas: Replicas
    key: str
    clients: int = 6
    answers: list[Answer] = field(default_factory=list)
    alive: list[bool] = field(default_factory=lambda: [True, True])
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for n in range(self.clients):
            thread = threading.Thread(target=self._client, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _client(self, n: int) -> None:
        urls = [g.url for g in self.replicas.gateways]
        headers = {"authorization": f"Bearer {self.key}"}
        body = {"model": "echo", "messages": [{"role": "user", "content": "hello"}]}
        turn = n
        with httpx.Client(timeout=30, headers=headers) as client:
            while not self._stop.is_set():
                turn += 1
                replica = turn % len(urls)
                if not self.alive[replica]:
                    replica = 1 - replica
                request_id = uuid.uuid4().hex
                started = time.perf_counter()
                try:
                    response = client.post(
                        f"{urls[replica]}/v1/chat/completions",
                        json=body,
                        headers={"x-request-id": request_id},
                    )
                    status = response.status_code
                    if status == 200:
                        response.json()  # the whole body arrived
                except (httpx.TransportError, ValueError):
                    status = 0
                answer = Answer(replica, request_id, status, time.perf_counter() - started)
                with self._lock:
                    self.answers.append(answer)

    def count(self, replica: int, status: int = 200) -> int:
        with self._lock:
            return sum(1 for a in self.answers if a.replica == replica and a.status == status)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


def wait_for(condition: object, timeout: float, step: float = 0.1) -> bool:
    """Poll `condition()` until true or `timeout` seconds pass; returns the last value."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def p99(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else 0.0
