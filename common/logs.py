"""Logging setup shared by every service: one format for every line, ours and any library's.

structlog renders everything. Stdlib loggers (uvicorn, httpx/httpx2, alembic, asyncio, the
MCP SDK, ...) end in a `ProcessorFormatter` on stderr, and our own `structlog` loggers run the
same processors and write to that handler's stream directly (`HandlerLineWriter`), so each
line is one JSON object (or a readable console line on a TTY), carrying the
trace and span ids of the current OpenTelemetry span when tracing is on. A service adds its
own processors (the gateway: its request id).

Libraries that log one INFO line per HTTP request (httpx's "HTTP Request: ..."; the MCP
SDK's session chatter) are lowered to DEBUG: at the default level they are noise.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import MutableMapping, Sequence
from typing import Any

import orjson
import structlog

from common.tracing.light import LightSpan, current_span

# Loggers whose INFO lines are per-request chatter.
CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore", "mcp.client", "mcp.server.streamable_http")
# uvicorn configures these with their own handlers unless told otherwise; ours replace them.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def add_trace_ids(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Stamp the current span's trace and span ids (a no-op when nothing is traced)."""
    span = current_span()
    # a SpanContext is a tuple: unpacked at once rather than through three properties
    trace_id, span_id, _, _, _, valid = (
        span.context if type(span) is LightSpan else span.get_span_context()
    )
    if valid:
        event.setdefault("trace_id", f"{trace_id:032x}")
        event.setdefault("span_id", f"{span_id:016x}")
    return event


class IsoUtcStamper:
    """The `timestamp` field, as structlog's `TimeStamper(fmt="iso", utc=True)` writes it
    (`2026-12-05T10:58:46.123456Z`, no fraction on a whole second), with the date and time
    of day formatted once per second: `datetime.isoformat` was a quarter of each line's cost."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        second, nanos = divmod(time.time_ns(), 1_000_000_000)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        micros = nanos // 1000
        event["timestamp"] = f"{self._prefix}.{micros:06d}Z" if micros else f"{self._prefix}Z"
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


class HandlerLineWriter:
    """The logger under our own structlog loggers: their events run the same processors as a
    library's line does in the `ProcessorFormatter`, and the rendered line goes straight to the
    root handler's stream, under its lock. Going through stdlib logging instead (a LogRecord,
    the caller lookup, the handler chain, the formatter's copy of the record) cost two thirds
    of each line, and the access log writes one line per request."""

    def __init__(self, handler: logging.StreamHandler[Any], name: str) -> None:
        self.handler = handler
        self.name = name  # read by `structlog.stdlib.add_logger_name`

    def msg(self, line: str) -> None:
        handler = self.handler
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.flush()
        except Exception:
            # as `StreamHandler.emit` does: a log line that cannot be written (a closed or
            # full stream) is reported on stderr, never raised into the request
            handler.handleError(logging.makeLogRecord({"msg": line, "name": self.name}))
        finally:
            handler.release()

    debug = info = warning = warn = error = critical = exception = fatal = msg


class EventLog:
    """One logger's lines through the configured processors and writer, without structlog's
    bound logger in between (its method lookup, the keyword copies, the context merge of the
    event dict): for a line written on every request, the access log. The configuration is
    read on first use, as structlog's own loggers do (`cache_logger_on_first_use`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._resolved: tuple[Sequence[structlog.typing.Processor], Any] | None = None

    def info(self, event: str, fields: dict[str, Any]) -> None:
        """Log `fields` (which this takes over) under `event` at info level."""
        resolved = self._resolved or self._resolve()
        processors, logger = resolved
        if logger is None:  # below the configured level
            return
        fields["event"] = event
        line: Any = fields
        try:
            for processor in processors:
                line = processor(logger, "info", line)
        except structlog.DropEvent:
            return
        if isinstance(line, str | bytes | bytearray):
            logger.info(line)
        elif isinstance(line, tuple):
            args, kwargs = line
            logger.info(*args, **kwargs)
        else:
            logger.info(**line)

    def _resolve(self) -> tuple[Sequence[structlog.typing.Processor], Any]:
        config = structlog.get_config()
        enabled = structlog.get_logger(self.name).is_enabled_for(logging.INFO)
        logger = config["logger_factory"](self.name) if enabled else None
        self._resolved = (tuple(config["processors"]), logger)
        return self._resolved


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
        IsoUtcStamper(),
    ]
    renderer = _renderer(json_logs)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=lambda *args: HandlerLineWriter(handler, str(args[0]) if args else ""),
        cache_logger_on_first_use=True,
    )
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
