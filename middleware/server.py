"""Run the middleware under uvicorn (uvloop + httptools)."""

from __future__ import annotations

import uvicorn

from gateway.config import LoadedConfig
from gateway.logs import configure_logging
from gateway.tracing import MIDDLEWARE_SERVICE, start_tracing
from middleware.app import create_app
from middleware.settings import settings_from_config


def serve(
    config: LoadedConfig, *, host: str = "127.0.0.1", port: int = 4001, log_level: str = "info"
) -> None:
    configure_logging(json_logs=config.file.litellm_settings.json_logs, level=log_level)
    start_tracing(config, MIDDLEWARE_SERVICE)
    settings = settings_from_config(config)
    app = create_app(settings, public_url=f"http://{host}:{port}")
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
