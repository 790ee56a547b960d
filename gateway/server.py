"""Run the gateway under uvicorn (uvloop + httptools) or Granian, one or several workers."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import structlog
import uvicorn

from common.config.report import log_config_report
from gateway.app import CONFIG_ENV, create_app
from gateway.config import ConfigError, LoadedConfig
from gateway.logs import configure_logging
from gateway.metrics import MULTIPROC_ENV, prepare_multiprocess_dir
from gateway.signin.session import SECRET_ENV
from gateway.store.database import (
    StoreUnavailableError,
    create_database,
    database_url_for,
    default_data_dir,
    migrate_database,
)
from gateway.tracing import start_gateway_tracing
from gateway.upstream_tls import TlsSettingError, check_default_tls
from gateway.workers import per_worker_state

Server = Literal["uvicorn", "granian"]
SERVERS: tuple[Server, ...] = ("uvicorn", "granian")
APP_FACTORY = "gateway.app:app_from_env"
GRACEFUL_SHUTDOWN_SECONDS = 30
KEEP_ALIVE_SECONDS = 75


def serve(
    config: LoadedConfig,
    *,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    server: Server = "uvicorn",
) -> None:
    configure_logging(json_logs=config.file.litellm_settings.json_logs, level=log_level)
    # Once, in the parent: workers build their apps from the same file.
    where = str(config.path) if config.path else "<no config file>"
    log = structlog.get_logger("gateway")
    log_config_report(log, "gateway", where, config.findings)
    unshared = per_worker_state(config, workers)
    if unshared:
        log.warning(
            "state the workers do not share",
            workers=workers,
            redis=bool(config.redis_url),
            per_worker=unshared,
        )
    if server == "granian":
        # Not a dependency (uvicorn is the default; see bench/README.md).
        try:
            from gateway import granian_server
        except ImportError:
            raise ConfigError(
                "--server granian needs the granian package (pip install granian)"
            ) from None
        if workers == 1:
            start_gateway_tracing(config)
            granian_server.run_embedded(
                create_app(config, settle_heap=True), host, port, GRACEFUL_SHUTDOWN_SECONDS
            )
            return
        with _worker_environment(config, where, workers):
            granian_server.run_workers(APP_FACTORY, host, port, workers, GRACEFUL_SHUTDOWN_SECONDS)
        return
    if workers > 1:
        with _worker_environment(config, where, workers):
            uvicorn.run(APP_FACTORY, factory=True, workers=workers, **_uvicorn_settings(host, port))
        return
    start_gateway_tracing(config)
    uvicorn.run(create_app(config, settle_heap=True), **_uvicorn_settings(host, port))


@contextmanager
def _worker_environment(config: LoadedConfig, where: str, workers: int) -> Iterator[None]:
    """What child processes need to build their apps from the same config: its path, and
    (several workers) a directory where each writes its metrics samples."""
    # Each worker builds its own app; a TLS setting none of them could use is reported
    # here, once, instead of as a traceback per worker.
    try:
        check_default_tls(config.file.litellm_settings.ssl_verify, os.environ)
    except TlsSettingError as exc:
        raise ConfigError(f"{where}: TLS settings: {exc}") from None
    if config.path is not None:
        os.environ[CONFIG_ENV] = str(config.path.resolve())
    if workers == 1:
        yield
        return
    _migrate_before_workers(config)
    if not config.master_key and not os.environ.get(SECRET_ENV):
        # Otherwise each worker signs admin sessions with its own random key, and a session
        # made by one is refused by the others.
        os.environ[SECRET_ENV] = secrets.token_hex(32)
    # Workers are spawned processes; with this set before they import prometheus_client,
    # each writes its samples to files here and /metrics adds them up.
    given = os.environ.get(MULTIPROC_ENV)
    metrics_dir = given or tempfile.mkdtemp(prefix="toolrelay-metrics-")
    prepare_multiprocess_dir(Path(metrics_dir))
    os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        yield
    finally:
        if given is None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _migrate_before_workers(config: LoadedConfig) -> None:
    """Each worker migrates at start. On PostgreSQL an advisory lock serialises them; on a
    fresh SQLite file nothing does, and two workers creating the same tables fail. So the
    parent migrates once, first, and the workers find the schema current. A database that is
    down is left to the workers, which keep serving and retry in the background."""
    database = create_database(
        database_url_for(config.file.general_settings.database_url, default_data_dir())
    )

    async def run() -> None:
        try:
            await migrate_database(database)
        finally:
            await database.close()

    try:
        asyncio.run(run())
    except StoreUnavailableError as exc:
        structlog.get_logger("gateway").warning(
            "database unavailable before the workers start; they retry", error=str(exc)
        )


def _uvicorn_settings(host: str, port: int) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "none",  # no websocket routes: don't import a websocket stack (~0.8 MB)
        "access_log": False,
        "log_level": "warning",
        "log_config": None,  # keep our JSON handler (configure_logging) for uvicorn's loggers
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }
