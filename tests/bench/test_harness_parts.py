from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.procstat import (
    parse_stat_cpu_ticks,
    parse_statm_rss_bytes,
    sample,
    scheduled_cpu_seconds,
)
from bench.services import MASTER_KEY, proxy_config, write_config
from bench.targets import Target, rotate
from bench.wrk import lua_script, parse_output
from gateway.config import load_config

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:4000/v1/chat/completions
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    20.01ms    2.00ms  40.00ms   90.00%
    Req/Sec     3.20k   100.00     3.50k    80.00%
  16000 requests in 5.01s, 15.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   3193.61
Transfer/sec:      2.99MB
"""


def test_parse_wrk_output() -> None:
    result = parse_output(WRK_OUTPUT)
    assert result.requests == 16000
    assert result.seconds == pytest.approx(5.01)
    assert result.requests_per_second == pytest.approx(3193.61)
    assert (result.non_2xx, result.socket_errors, result.errors) == (4, 5, 9)


def test_parse_wrk_output_rejects_other_text() -> None:
    with pytest.raises(ValueError):
        parse_output("wrk: invalid option")


def test_lua_script_reads_the_body_file_and_sends_the_key(tmp_path: Path) -> None:
    script = lua_script(tmp_path / "body.json", "sk-x")
    assert f'io.open("{tmp_path / "body.json"}", "rb")' in script
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["Authorization"] = "Bearer sk-x"' in script


def test_proxy_config_is_one_file_both_gateways_read(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.yaml", upstream_port=9999)
    raw = yaml.safe_load(path.read_text())
    assert raw == proxy_config(9999)
    names = [entry["model_name"] for entry in raw["model_list"]]
    assert names == ["size-200", "size-10000", "slow-stream-10"]
    first = raw["model_list"][0]["litellm_params"]
    assert first == {
        "model": "openai/size-200",
        "api_base": "http://127.0.0.1:9999/v1",
        "api_key": "sk-bench",
    }
    loaded = load_config(str(path))  # toolrelay reads it without complaint
    assert loaded.master_key == MASTER_KEY
    assert [e.model_name for e in loaded.file.model_list] == names


def test_rotate_interleaves_who_goes_first() -> None:
    a, b, c = Target("a", 1, 1), Target("b", 2, 2), Target("c", 3, 3)
    assert [t.name for t in rotate([a, b, c], 0)] == ["a", "b", "c"]
    assert [t.name for t in rotate([a, b, c], 1)] == ["b", "c", "a"]
    assert [t.name for t in rotate([a, b, c], 3)] == ["a", "b", "c"]
    assert rotate([], 5) == []


def test_parse_proc_stat_with_awkward_command_name() -> None:
    line = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 0 0"
    assert parse_stat_cpu_ticks(line) == 300


def test_parse_statm() -> None:
    assert parse_statm_rss_bytes("765 423 394 5 0 123 0") == 423 * os.sysconf("SC_PAGE_SIZE")


def test_sample_of_this_process_is_plausible() -> None:
    now = sample(os.getpid())
    assert now.rss_bytes > 1024 * 1024
    assert now.cpu_seconds > 0


def test_scheduled_cpu_counts_every_thread_of_a_process() -> None:
    """The scheduler's clock, summed over threads, agrees with the kernel's utime+stime
    (give or take the ticks that one is sampled at) for a child whose two threads each burn
    0.2 s and stay alive until read: an exited thread's schedstat is gone with it. A child
    of its own, so that no thread of this test process comes or goes meanwhile."""
    script = (
        "import sys, threading, time\n"
        "def burn():\n"
        "    started = time.thread_time()\n"
        "    while time.thread_time() - started < 0.2:\n"
        "        pass\n"
        "burnt, release = threading.Event(), threading.Event()\n"
        "def work():\n"
        "    burn()\n"
        "    burnt.set()\n"
        "    release.wait()\n"
        "worker = threading.Thread(target=work, daemon=True)\n"
        "worker.start()\n"
        "burn()\n"
        "burnt.wait()\n"
        "print('burnt', flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "burnt"
        exact = scheduled_cpu_seconds(child.pid)
        ticked = sample(child.pid).cpu_seconds
    finally:
        child.communicate("", timeout=30)
    assert exact >= 0.4  # both threads' work
    assert abs(exact - ticked) < 0.2  # a missing or doubled thread is 0.2 s off or more
