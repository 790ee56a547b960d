"""The gateway's logging: the shared setup (`common.logs`) plus its request id on each line
of a request (kept on its RequestContext rather than in structlog's contextvars)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from common import logs
from gateway.context import current_context


def add_request_id(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    if "request_id" not in event:
        ctx = current_context()
        if ctx is not None:
            event["request_id"] = ctx.request_id
    return event


def configure_logging(*, json_logs: bool | None = None, level: str = "INFO") -> None:
    logs.configure_logging(json_logs=json_logs, level=level, processors=(add_request_id,))
