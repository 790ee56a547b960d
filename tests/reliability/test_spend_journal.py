"""Without Redis, a gateway SIGKILLed with spend rows still in its in-memory batch replays
them from its local journal at the next start: every request answered with a 200 has exactly
one row, written once."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import httpx

from tests.reliability.replicas import wait_for
from tests.reliability.stack import Stack, spend_rows, start_gateway, start_upstream

CHAT = {"model": "echo", "messages": [{"role": "user", "content": "x"}]}


def test_killed_gateway_replays_its_journal(tmp_path: Path) -> None:
    upstream = start_upstream(tmp_path)
    home = tmp_path / "home"
    try:
        # Batches every 60 s: the rows are only in memory (and the journal) when it dies.
        gateway = start_gateway(tmp_path, upstream.url, home, batch_seconds=60)
        try:
            key = Stack(upstream, gateway, home).new_key()
            with httpx.Client(
                base_url=gateway.url, headers={"authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                answered = [
                    client.post("/v1/chat/completions", json=CHAT).headers["x-request-id"]
                    for _ in range(40)
                ]
            os.killpg(gateway.process.pid, signal.SIGKILL)
            gateway.process.wait(10)
        finally:
            gateway.stop()
        assert any(home.glob("spend-journal-*.jsonl*"))

        restarted = start_gateway(tmp_path, upstream.url, home, batch_seconds=0.2)
        try:
            stack = Stack(upstream, restarted, home)
            assert wait_for(lambda: len(spend_rows(stack, key)) >= 40, timeout=30)
            rows = spend_rows(stack, key)
            assert Counter(str(r["request_id"]) for r in rows) == Counter(answered)
            assert "spend journal from an earlier run recovered" in restarted.log()
        finally:
            restarted.stop()
        assert not any(home.glob("spend-journal-*.jsonl*"))  # discarded after a clean stop
    finally:
        upstream.stop()
