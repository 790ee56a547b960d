"""Logging for the MCP servers: every line (ours, uvicorn's, the MCP SDK's) is JSON on stderr.

The same shape as the gateway's logs (`mcp_servers` imports no other toolrelay package, so
this is its own small copy): structlog's stdlib integration, the current trace ids on each
line, and the SDK's per-request INFO chatter lowered to DEBUG.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog
from opentelemetry import trace

LEVEL_ENV = "TOOLRELAY_LOG_LEVEL"
CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore", "mcp.server", "mcp.client")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def _trace_ids(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


class _DemoteChatter(logging.Filter):
    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and record.name.startswith(CHATTY_LOGGERS):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


def _orjson_text(obj: Any, **kwargs: Any) -> str:
    return orjson.dumps(obj, default=kwargs.get("default")).decode()


def configure_logging(level: str | None = None) -> None:
    name = (level or os.environ.get(LEVEL_ENV) or "INFO").upper()
    numeric = logging.getLevelNamesMapping().get(name, logging.INFO)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        _trace_ids,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(serializer=_orjson_text),
            ],
        )
    )
    handler.addFilter(_DemoteChatter(numeric))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min(numeric, logging.INFO))
    for logger_name in UVICORN_LOGGERS:
        named = logging.getLogger(logger_name)
        named.handlers.clear()
        named.propagate = True
