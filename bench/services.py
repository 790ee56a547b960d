"""The processes under test: fake upstream, toolrelay gateway and LiteLLM, each pinned to a core.

Every server is bound to 127.0.0.1 on a free port, its output goes to a log file under the
results directory, and it is stopped by PID.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.rawhttp import BlockingClient, ProtocolError, build_request

REPO = Path(__file__).resolve().parent.parent
LIVENESS = "/health/liveliness"

# Model names in the shared config; the fake upstream reads its behaviour from the name.
MODELS = ("size-200", "size-10000", "slow-stream-10")
MASTER_KEY = "sk-bench-6f1d0c5e9a8b47f2b3c4d5e6f708192a"


class ServiceError(Exception):
    """A benchmarked service failed to start or answer."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proxy_config(upstream_port: int, models: Sequence[str] = MODELS) -> dict[str, object]:
    """One LiteLLM-format config, read unchanged by both gateways: every model is an
    OpenAI-compatible deployment on the fake upstream."""
    return {
        "model_list": [
            {
                "model_name": name,
                "litellm_params": {
                    "model": f"openai/{name}",
                    "api_base": f"http://127.0.0.1:{upstream_port}/v1",
                    "api_key": "sk-bench",
                },
            }
            for name in models
        ],
        "litellm_settings": {"drop_params": True},
        # Both gateways authenticate every request with the master key (LiteLLM refuses to
        # start without one); the fake upstream ignores the header.
        "general_settings": {"master_key": MASTER_KEY},
    }


def write_config(path: Path, upstream_port: int) -> Path:
    path.write_text(yaml.safe_dump(proxy_config(upstream_port), sort_keys=False))
    return path


# uvicorn gives `uvicorn.access` no handler, so it skips access logging entirely (it checks
# `hasHandlers()`); LiteLLM passes this file through its `--log_config` flag.
QUIET_UVICORN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.error": {"level": "WARNING"},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


@dataclass(frozen=True)
class Launch:
    """How to start one service: argv (without taskset), environment additions, health path."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    health_path: str = LIVENESS
    cwd: Path = REPO
    # run to completion (same env and cwd) before the first start of the service
    prepare: tuple[str, ...] = ()


def pinned(argv: list[str], core: int | str | None) -> list[str]:
    """`core`: one core, or a taskset list ("0,1") for a multi-worker target."""
    return argv if core is None else ["taskset", "-c", str(core), *argv]


def fake_upstream_launch(port: int) -> Launch:
    argv = [sys.executable, "-m", "testing.fake_upstream", "--port", str(port)]
    return Launch("fake-upstream", [*argv, "--record-limit", "1"], {}, port, "/health")


def gateway_launch(
    config: Path,
    port: int,
    *,
    name: str = "toolrelay",
    source: Path = REPO,
    server: str | None = None,
    workers: int = 1,
) -> Launch:
    """`source` is a checkout of the code to run: `python -m` puts the working directory
    first on sys.path, so a baseline export shadows the installed (editable) packages.
    `server` (uvicorn, granian) and `workers` become `--server`/`--workers` (a baseline from
    before `--server` existed is run without the flag)."""
    argv = [sys.executable, "-m", "toolrelay", "gateway", "--config", str(config)]
    if server is not None:
        argv += ["--server", server]
    if workers != 1:
        argv += ["--workers", str(workers)]
    # Each target its own store: a baseline cannot open a database migrated by newer code,
    # and a benchmark has no business in the user's ~/.toolrelay.
    home = {"TOOLRELAY_HOME": str(config.parent / f"home-{name}")}
    # The store is migrated first, as by a deploy's migration job: the figures are those of a
    # gateway (re)starting on its existing store, which is every start but the first.
    # (`toolrelay migrate` does not create the SQLite file's directory, the gateway does)
    (config.parent / f"home-{name}").mkdir(parents=True, exist_ok=True)
    migrate = (sys.executable, "-m", "toolrelay", "migrate", "--config", str(config))
    return Launch(name, [*argv, "--port", str(port)], home, port, cwd=source, prepare=migrate)


def export_ref(ref: str) -> Path:
    """The packages at git `ref`, exported (no worktree, no branch) under .cache/."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    target = REPO / ".cache" / f"baseline-{sha}"
    if not (target / "middleware").exists():  # an export from before it held the middleware
        target.mkdir(parents=True, exist_ok=True)
        listed = subprocess.run(
            ["git", "ls-tree", "--name-only", sha],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        # every package the gateway and the middleware import from the tree, as at `ref`
        packages = [p for p in ("gateway", "toolrelay", "common", "middleware") if p in listed]
        archive = subprocess.run(
            ["git", "archive", sha, *packages],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def litellm_launch(python: Path, config: Path, port: int, log_config: Path) -> Launch:
    argv = [str(python.parent / "litellm"), "--config", str(config), "--port", str(port)]
    argv += ["--host", "127.0.0.1", "--num_workers", "1", "--log_config", str(log_config)]
    env = {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "DATABASE_URL": "",
        "STORE_MODEL_IN_DB": "False",
        "DISABLE_ADMIN_UI": "True",
        "NO_DOCS": "True",
        "LITELLM_TELEMETRY": "False",
    }
    return Launch("litellm", argv, env, port)


def write_litellm_log_config(path: Path) -> Path:
    path.write_text(json.dumps(QUIET_UVICORN_LOGGING))
    return path


@dataclass
class Service:
    launch: Launch
    process: subprocess.Popen[bytes]
    started_at: float

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return self.launch.port

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def _environment(launch: Launch) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({k: v for k, v in launch.env.items() if v})
    return env


def spawn(launch: Launch, core: int | str | None, log_dir: Path) -> Service:
    env = _environment(launch)
    log = (log_dir / f"{launch.name}-{launch.port}.log").open("ab")
    started = time.perf_counter()
    process = subprocess.Popen(
        pinned(launch.argv, core), cwd=launch.cwd, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    return Service(launch, process, started)


def wait_healthy(service: Service, timeout: float = 120.0, interval: float = 0.005) -> float:
    """Poll the health route until it answers 200; returns seconds since the spawn."""
    raw = build_request("GET", service.launch.health_path, "127.0.0.1")
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if service.process.poll() is not None:
            raise ServiceError(f"{service.launch.name} exited with {service.process.returncode}")
        client = BlockingClient("127.0.0.1", service.port, timeout=5.0)
        try:
            if client.request(raw).status == 200:
                return time.perf_counter() - service.started_at
        except (OSError, ProtocolError):
            pass  # not listening yet
        finally:
            client.close()
        time.sleep(interval)
    raise ServiceError(f"{service.launch.name} not healthy within {timeout}s")


def start(launch: Launch, core: int | str | None, log_dir: Path, timeout: float = 120.0) -> Service:
    if launch.prepare:
        with (log_dir / f"{launch.name}-prepare.log").open("ab") as log:
            subprocess.run(
                launch.prepare,
                cwd=launch.cwd,
                env=_environment(launch),
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=timeout,
            )
    service = spawn(launch, core, log_dir)
    try:
        wait_healthy(service, timeout)
    except BaseException:
        service.stop()
        raise
    return service
