"""`toolrelay gateway --workers N` as real processes: what the workers share through Redis,
what start-up says they do not share without it, and that each spend row is written once.

Which worker serves a connection is the kernel's choice, so the tests find out instead of
hoping: they open connections until each worker holds one (the server side of a connection is
a socket in exactly one worker's file table), then alternate requests between them.
"""

from __future__ import annotations

import http.client
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import asyncpg
import orjson
import pytest
import redis

from gateway.limits.redis_counters import namespace_for
from gateway.store.database import SQLITE_FILENAME, database_url_for
from tests.reliability.replicas import replica_config, scratch_database, wait_for
from tests.reliability.stack import MASTER_KEY, UPSTREAM_KEY, start_upstream
from tests.support.components import POSTGRES_DSN, REDIS_URL
from tests.support.processes import ServiceProcess, free_port, start_service

READY = '"event":"gateway ready"'
PER_WORKER = "state the workers do not share"


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[ServiceProcess]:
    service = start_upstream(tmp_path)
    yield service
    service.stop()


@contextmanager
def workers(
    tmp_path: Path, upstream: ServiceProcess, count: int, env: dict[str, str]
) -> Iterator[ServiceProcess]:
    home = tmp_path / "home"
    home.mkdir()
    config = home / "config.yaml"
    config.write_text(replica_config(upstream.url))
    port = free_port()
    argv = ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(port)]
    gateway = start_service(
        "gateway",
        [*argv, "--workers", str(count)],
        port=port,
        log_dir=tmp_path,
        env={
            "REL_UPSTREAM_KEY": UPSTREAM_KEY,
            "REL_MASTER_KEY": MASTER_KEY,
            "TOOLRELAY_HOME": str(home),
            "DATABASE_URL": "",
            "REDIS_URL": "",
            **env,
        },
        timeout=90,
    )
    try:
        # Healthy means one worker answers; the others may still be starting.
        assert wait_for(lambda: gateway.log().count(READY) == count, timeout=90), gateway.log()
        yield gateway
    finally:
        gateway.stop(timeout=60)


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            pending += [int(p) for p in (task / "children").read_text().split()]
    return found


def _server_side_inode(gateway_port: int, client_port: int) -> str:
    """The inode of the gateway's socket for the connection from `client_port`."""
    want_local, want_remote = f"0100007F:{gateway_port:04X}", f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == want_local and fields[2] == want_remote:
            return fields[9]
    raise LookupError(f"no server socket for client port {client_port}")


def _owner(gateway: ServiceProcess, connection: http.client.HTTPConnection) -> int:
    assert connection.sock is not None
    inode = _server_side_inode(gateway.port, connection.sock.getsockname()[1])
    for pid in _descendants(gateway.process.pid):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except FileNotFoundError:
                continue  # closed while we looked
    raise LookupError(f"no worker holds socket {inode}")


def one_connection_per_worker(
    gateway: ServiceProcess, count: int
) -> list[http.client.HTTPConnection]:
    """Open keep-alive connections until `count` different workers each hold one."""
    held: dict[int, http.client.HTTPConnection] = {}
    spare: list[http.client.HTTPConnection] = []
    for _ in range(400):
        connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
        connection.request("GET", "/health/liveliness")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        owner = _owner(gateway, connection)
        if owner in held:
            spare.append(connection)
        else:
            held[owner] = connection
        if len(held) == count:
            break
    for connection in spare:
        connection.close()
    assert len(held) == count, f"connections only reached workers {sorted(held)}"
    return list(held.values())


def post(
    connection: http.client.HTTPConnection, path: str, key: str, body: object
) -> tuple[int, bytes]:
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    connection.request("POST", path, body=orjson.dumps(body), headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def chat_round_robin(connections: list[http.client.HTTPConnection], key: str, n: int) -> list[int]:
    body = {"model": "echo", "messages": [{"role": "user", "content": "hello"}]}
    statuses = []
    for i in range(n):
        status, _ = post(connections[i % len(connections)], "/v1/chat/completions", key, body)
        statuses.append(status)
    return statuses


def new_key(connection: http.client.HTTPConnection, **fields: object) -> str:
    status, body = post(connection, "/key/generate", MASTER_KEY, fields)
    assert status == 200, body
    return str(orjson.loads(body)["key"])


async def _spend_rows(database: str) -> list[str]:
    connection = await asyncpg.connect(POSTGRES_DSN.rsplit("/", 1)[0] + f"/{database}")
    try:
        return [
            r["request_id"] for r in await connection.fetch("SELECT request_id FROM spend_logs")
        ]
    finally:
        await connection.close()


def _forget_limits(database: str) -> None:
    dsn = database_url_for(f"postgresql://postgres@127.0.0.1:5432/{database}", Path("."))
    from sqlalchemy.engine import make_url

    prefix = namespace_for(make_url(dsn).render_as_string(hide_password=True))
    client = redis.Redis.from_url(REDIS_URL)
    try:
        stale = list(client.scan_iter(match=f"{prefix}:*", count=10_000))
        if stale:
            client.delete(*stale)
    finally:
        client.close()


def test_two_workers_share_an_rpm_limit_through_redis(
    tmp_path: Path, upstream: ServiceProcess
) -> None:
    with scratch_database() as database:
        env = {
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
            "REDIS_URL": REDIS_URL,
            "TOOLRELAY_ROUTER_NAMESPACE": f"toolrelay-test:{uuid.uuid4().hex}",
        }
        try:
            with workers(tmp_path, upstream, 2, env) as gateway:
                connections = one_connection_per_worker(gateway, 2)
                key = new_key(connections[0], rpm_limit=5)
                statuses = chat_round_robin(connections, key, 10)
                # Both workers admit from one shared window: 5 in all, not 5 each.
                assert statuses == [200] * 5 + [429] * 5
                for connection in connections:
                    connection.close()
                # With Redis (and no local response cache) nothing is per worker: no warning.
                assert PER_WORKER not in gateway.log()
            # Stopped gracefully: every worker flushed its spend; each row is there once.
            rows = anyio.run(_spend_rows, database)
            admitted = [r for r in rows if r]
            assert len(admitted) == 5
            assert len(set(admitted)) == 5
        finally:
            _forget_limits(database)


def _per_worker_lines(log: str) -> str:
    found = [line for line in log.splitlines() if PER_WORKER in line]
    assert len(found) == 1, found  # one warning, from the parent, not one per worker
    return found[0]


def test_two_workers_without_redis_warn_and_count_limits_per_worker(
    tmp_path: Path, upstream: ServiceProcess
) -> None:
    with workers(tmp_path, upstream, 2, {}) as gateway:
        warning = _per_worker_lines(gateway.log())
        assert re.search(r"rpm_limit.*up to 2x the configured limit", warning), warning
        connections = one_connection_per_worker(gateway, 2)
        key = new_key(connections[0], rpm_limit=5)
        # The other worker loads the new key from the database on its first miss.
        statuses = chat_round_robin(connections, key, 10)
        for connection in connections:
            connection.close()
    # What the warning says: each worker counts its own window.
    assert statuses == [200] * 10
    # SQLite, two writer processes: every row written, and once.
    with sqlite3.connect(tmp_path / "home" / SQLITE_FILENAME) as db:
        rows = [r[0] for r in db.execute("SELECT request_id FROM spend_logs")]
    assert len(rows) == 10
    assert len(set(rows)) == 10
