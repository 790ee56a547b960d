"""Logging setup: one format for every line, from our code and from any library.

structlog renders everything. Our own `structlog` loggers and stdlib loggers (uvicorn,
httpx/httpx2, alembic, asyncio, ...) end in the same `ProcessorFormatter` on stderr, so each
line is one JSON object (or a readable console line on a TTY). Each line of a request carries
its request id (bound as a contextvar by the request middleware) and, when tracing is on,
the trace and span ids of the current OpenTelemetry span.

Libraries that log one INFO line per HTTP request (httpx's "HTTP Request: ..."; the MCP
client's session chatter) are lowered to DEBUG: at the default level they are noise.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog
from opentelemetry import trace

from gateway.context import current_context

# Loggers whose INFO lines are per-request chatter.
CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore", "mcp.client", "mcp.server.streamable_http")
# uvicorn configures these with their own handlers unless told otherwise; ours replace them.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def add_request_id(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The gateway's request id (kept on its RequestContext rather than in structlog)."""
    if "request_id" not in event:
        ctx = current_context()
        if ctx is not None:
            event["request_id"] = ctx.request_id
    return event


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

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and record.name.startswith(CHATTY_LOGGERS):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


def _orjson_text(obj: Any, **kwargs: Any) -> str:
    return orjson.dumps(obj, default=kwargs.get("default")).decode()


def _renderer(json_logs: bool) -> structlog.typing.Processor:
    if json_logs:
        return structlog.processors.JSONRenderer(serializer=_orjson_text)
    return structlog.dev.ConsoleRenderer(colors=False)


def configure_logging(*, json_logs: bool | None = None, level: str = "INFO") -> None:
    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        add_request_id,
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
    handler.addFilter(DemoteChatter(numeric))
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
