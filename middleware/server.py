"""Run the middleware under uvicorn (uvloop + httptools)."""

from __future__ import annotations

import structlog
import uvicorn

from common.config import ConfigDocument
from common.config.report import log_config_report
from common.logs import configure_logging
from middleware.app import create_app
from middleware.settings import settings_from_config
from middleware.tracing import start_middleware_tracing


def serve(
    config: ConfigDocument, *, host: str = "127.0.0.1", port: int = 4001, log_level: str = "info"
) -> None:
    settings = settings_from_config(config)
    configure_logging(json_logs=settings.json_logs, level=log_level)
    start_middleware_tracing(config)
    log = structlog.get_logger("middleware")
    log_config_report(log, "middleware", config.where, settings.findings)
    app = create_app(settings, public_url=f"http://{host}:{port}", settle_heap=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        log_config=None,  # keep our JSON handler (configure_logging) for uvicorn's loggers
        timeout_graceful_shutdown=10,
        timeout_keep_alive=75,
    )
