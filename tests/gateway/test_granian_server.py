"""`toolrelay gateway --server granian` as a real process: the OpenAI SDK's plain and streamed
chats work, the log stays JSON, and SIGTERM drains with every spend row flushed, as under
uvicorn."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import openai
import orjson
import pytest

from gateway.accounts import SPILL_FILENAME
from gateway.store.database import SQLITE_FILENAME
from tests.reliability.replicas import replica_config
from tests.reliability.stack import MASTER_KEY, UPSTREAM_KEY, start_upstream
from tests.support.processes import ServiceProcess, free_port, start_service


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[ServiceProcess]:
    service = start_upstream(tmp_path)
    yield service
    service.stop()


def test_granian_serves_chat_and_streams_and_drains(
    tmp_path: Path, upstream: ServiceProcess
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = home / "config.yaml"
    config.write_text(replica_config(upstream.url))
    port = free_port()
    gateway = start_service(
        "gateway",
        [
            "-m",
            "toolrelay",
            "gateway",
            "--config",
            str(config),
            "--port",
            str(port),
            "--server",
            "granian",
        ],
        port=port,
        log_dir=tmp_path,
        env={
            "REL_UPSTREAM_KEY": UPSTREAM_KEY,
            "REL_MASTER_KEY": MASTER_KEY,
            "TOOLRELAY_HOME": str(home),
            "DATABASE_URL": "",
            "REDIS_URL": "",
        },
        timeout=90,
    )
    try:
        client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0)
        messages: list[openai.types.chat.ChatCompletionMessageParam] = [
            {"role": "user", "content": "hello"}
        ]
        plain = client.chat.completions.create(model="echo", messages=messages)
        assert plain.choices[0].message.content
        chunks = list(client.chat.completions.create(model="echo", messages=messages, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == plain.choices[0].message.content
        client.close()
    finally:
        gateway.stop(timeout=60)
    assert gateway.process.returncode == 0
    # Drained on SIGTERM: both requests' spend rows are in the store.
    with sqlite3.connect(home / SQLITE_FILENAME) as db:
        stored = db.execute("SELECT count(*) FROM spend_logs").fetchone()[0]
    spill = home / SPILL_FILENAME
    # Stored, not spilled for the next start. Spilled was what full CI runs found: the stop
    # cancelled a periodic flush inside SQLite's insert, which left the write lock held
    # (tests/gateway/spend/test_writer.py::test_stop_inside_a_write_transaction_lets_it_commit).
    assert (stored, spill.exists()) == (2, False), gateway.log()[-4000:]
    for line in gateway.log().splitlines():
        if line.strip():
            orjson.loads(line)  # every line JSON, Granian's own included
