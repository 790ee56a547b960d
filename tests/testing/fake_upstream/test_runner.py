"""Running the fake: in a thread, and shutting down while a `hang` request is in flight."""

from __future__ import annotations

import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from testing.fake_upstream import FakeUpstream, command_args, serve_in_thread
from tests.support.processes import free_port, stop_process
from tests.support.tls import make_private_pki


def test_thread_server_stops_even_with_a_hung_request() -> None:
    upstream = FakeUpstream()
    outcome: list[int | str] = []
    hung = threading.Event()

    def call_hang(base_url: str) -> None:
        try:
            response = httpx.post(
                f"{base_url}/v1/chat/completions",
                json={"model": "hang", "messages": [{"role": "user", "content": "x"}]},
                timeout=30,
            )
            outcome.append(response.status_code)
        except httpx.HTTPError as exc:
            outcome.append(type(exc).__name__)

    with serve_in_thread(upstream) as base_url:
        client = threading.Thread(target=call_hang, args=(base_url,))
        client.start()
        # Wait (bounded) until the fake has the request; it is recorded before the hang starts.
        for _ in range(1000):
            if upstream.recorder.requests(model="hang"):
                break
            hung.wait(0.01)
        else:
            pytest.fail("the hang request never reached the fake upstream")
        assert upstream.recorder.requests(model="hang")[0].status is None

    client.join(10)
    assert not client.is_alive()
    assert outcome  # the hung request ended (a 500 or a dropped connection), it did not hang on


def test_the_command_line_serves_https_with_a_given_certificate(tmp_path: Path) -> None:
    pki = make_private_pki(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, *command_args(port, tls=pki.server)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        trusted = ssl.create_default_context(cafile=str(pki.ca_bundle))
        with httpx.Client(verify=trusted) as client:
            deadline = time.monotonic() + 30
            while True:  # bounded poll until the process listens
                try:
                    response = client.get(f"https://127.0.0.1:{port}/health")
                    break
                except httpx.ConnectError:
                    assert process.poll() is None and time.monotonic() < deadline
                    time.sleep(0.05)
        assert response.status_code == 200
    finally:
        stop_process(process)
        assert process.stderr is not None
        process.stderr.close()


def test_the_command_line_wants_both_certificate_and_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "testing.fake_upstream", "--certfile", str(tmp_path / "c.pem")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--certfile and --keyfile go together" in result.stderr
