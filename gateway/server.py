"""Run the gateway under uvicorn (uvloop + httptools), one or several workers."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import structlog
import uvicorn

from common.config.report import log_config_report
from gateway.app import CONFIG_ENV, create_app
from gateway.config import ConfigError, LoadedConfig
from gateway.logs import configure_logging
from gateway.metrics import MULTIPROC_ENV, prepare_multiprocess_dir
from gateway.tracing import start_gateway_tracing
from gateway.upstream_tls import TlsSettingError, check_default_tls


def serve(
    config: LoadedConfig, *, host: str, port: int, workers: int = 1, log_level: str = "info"
) -> None:
    configure_logging(json_logs=config.file.litellm_settings.json_logs, level=log_level)
    # Once, in the parent: workers build their apps from the same file.
    where = str(config.path) if config.path else "<no config file>"
    log_config_report(structlog.get_logger("gateway"), "gateway", where, config.findings)
    common = {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
        "log_level": "warning",
        "log_config": None,  # keep our JSON handler (configure_logging) for uvicorn's loggers
        "timeout_graceful_shutdown": 30,
        "timeout_keep_alive": 75,
    }
    if workers > 1:
        # Each worker builds its own app; a TLS setting none of them could use is reported
        # here, once, instead of as a traceback per worker.
        try:
            check_default_tls(config.file.litellm_settings.ssl_verify, os.environ)
        except TlsSettingError as exc:
            raise ConfigError(f"{where}: TLS settings: {exc}") from None
        if config.path is not None:
            os.environ[CONFIG_ENV] = str(config.path.resolve())
        # Workers are spawned processes; with this set before they import prometheus_client,
        # each writes its samples to files here and /metrics adds them up.
        given = os.environ.get(MULTIPROC_ENV)
        metrics_dir = given or tempfile.mkdtemp(prefix="toolrelay-metrics-")
        prepare_multiprocess_dir(Path(metrics_dir))
        os.environ[MULTIPROC_ENV] = metrics_dir
        try:
            uvicorn.run("gateway.app:app_from_env", factory=True, workers=workers, **common)  # type: ignore[arg-type]
        finally:
            if given is None:
                shutil.rmtree(metrics_dir, ignore_errors=True)
        return
    start_gateway_tracing(config)
    uvicorn.run(create_app(config, settle_heap=True), **common)  # type: ignore[arg-type]
