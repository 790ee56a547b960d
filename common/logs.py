"""Logging setup shared by every service: one format for every line, ours and any library's.

structlog renders everything. Our own `structlog` loggers and stdlib loggers (uvicorn,
httpx/httpx2, alembic, asyncio, the MCP SDK, ...) end in the same `ProcessorFormatter` on
stderr, so each line is one JSON object (or a readable console line on a TTY), carrying the
trace and span ids of the current OpenTelemetry span when tracing is on. A service adds its
own processors (the gateway: its request id).

Libraries that log one INFO line per HTTP request (httpx's "HTTP Request: ..."; the MCP
SDK's session chatter) are lowered to DEBUG: at the default level they are noise.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping, Sequence
from typing import Any

import orjson
import structlog
from opentelemetry import trace

# Loggers whose INFO lines are per-request chatter.
CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore", "mcp.client", "mcp.server.streamable_http")
# uvicorn configures these with their own handlers unless told otherwise; ours replace them.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def add_trace_ids(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Stamp the current span's trace and span ids (a no-op when nothing is traced)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


class DemoteChatter(logging.Filter):
    """Re-level the chatty libraries' INFO lines to DEBUG, then apply the handler's level."""

    def __init__(self, level: int, chatty: tuple[str, ...] = CHATTY_LOGGERS) -> None:
        super().__init__()
        self.level = level
        self.chatty = chatty

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and record.name.startswith(self.chatty):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


def _orjson_text(obj: Any, **kwargs: Any) -> str:
    return orjson.dumps(obj, default=kwargs.get("default")).decode()


def _renderer(json_logs: bool) -> structlog.typing.Processor:
    if json_logs:
        return structlog.processors.JSONRenderer(serializer=_orjson_text)
    return structlog.dev.ConsoleRenderer(colors=False)


def configure_logging(
    *,
    json_logs: bool | None = None,
    level: str = "INFO",
    processors: Sequence[structlog.typing.Processor] = (),
    chatty: tuple[str, ...] = CHATTY_LOGGERS,
) -> None:
    """`processors` run on every line (ours and the libraries'), after the level and before
    the trace ids and the time stamp."""
    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        *processors,
        add_trace_ids,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(json_logs),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(DemoteChatter(numeric, chatty))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # The root passes everything on to the handler's filter, which decides after re-leveling.
    root.setLevel(min(numeric, logging.INFO))
    for name in UVICORN_LOGGERS:
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
