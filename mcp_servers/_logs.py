"""Logging for the MCP servers: the shared setup (`common.logs`), always JSON, with the
level from `TOOLRELAY_LOG_LEVEL`; all of the MCP server SDK's INFO chatter is lowered to
DEBUG, not only its per-request transport lines."""

from __future__ import annotations

import os

from common import logs

LEVEL_ENV = "TOOLRELAY_LOG_LEVEL"
CHATTY_LOGGERS = (*logs.CHATTY_LOGGERS, "mcp.server")


def configure_logging(level: str | None = None) -> None:
    name = level or os.environ.get(LEVEL_ENV) or "INFO"
    logs.configure_logging(json_logs=True, level=name, chatty=CHATTY_LOGGERS)
