"""How spans leave a service: queue bound, batch size, delay between batches, the time one
export request may take and how long a batch the receiver cannot take yet is tried again.

Read from the standard batch-processor and exporter variables, milliseconds as the
OpenTelemetry specification has them:

    OTEL_BSP_MAX_QUEUE_SIZE            spans held per target (2048)
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE     spans per export request (512)
    OTEL_BSP_SCHEDULE_DELAY            ms between exports when no batch is full (5000)
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT  ms one export request may take (5000);
      or OTEL_EXPORTER_OTLP_TIMEOUT
    TOOLRELAY_OTLP_RETRY_TIMEOUT       ms a batch is retried before it is dropped (30000);
                                       toolrelay's own (the specification has no such bound)

A value that is not a number in range is a start-up warning; the default applies. The
defaults are the specification's, but for the timeout (its 10 s) and the retry bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExportSettings:
    max_queue: int = 2048
    batch_size: int = 512
    # seconds. The specification's 5 s: fewer, fuller batches. The tracing overhead on the
    # middleware path measured 14.5% with it vs 18.9% with 1 s (bench/tracing_cost.py,
    # same code, one run), and 8.3% vs main's 14.4% (one run).
    interval: float = 5.0
    timeout: float = 5.0  # seconds per export request
    retry_for: float = 30.0  # seconds


DEFAULT_EXPORT = ExportSettings()


def _number(
    environ: Mapping[str, str], names: tuple[str, ...], minimum: int, problems: list[str]
) -> int | None:
    for name in names:
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            problems.append(f"{name}={raw!r}: not a whole number >= {minimum}; default used")
            return None
        return value
    return None


def export_settings(environ: Mapping[str, str]) -> tuple[ExportSettings, list[str]]:
    """The settings, and a start-up warning for each value that could not be used."""
    problems: list[str] = []
    queue = _number(environ, ("OTEL_BSP_MAX_QUEUE_SIZE",), 1, problems)
    batch = _number(environ, ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE",), 1, problems)
    delay = _number(environ, ("OTEL_BSP_SCHEDULE_DELAY",), 1, problems)
    timeout = _number(
        environ, ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"), 1, problems
    )
    retry = _number(environ, ("TOOLRELAY_OTLP_RETRY_TIMEOUT",), 0, problems)
    max_queue = DEFAULT_EXPORT.max_queue if queue is None else queue
    batch_size = DEFAULT_EXPORT.batch_size if batch is None else batch
    if batch_size > max_queue:  # the specification: a batch is at most the queue
        problems.append(
            f"OTEL_BSP_MAX_EXPORT_BATCH_SIZE={batch_size} is above the queue size "
            f"{max_queue}; {max_queue} used"
        )
        batch_size = max_queue
    return ExportSettings(
        max_queue=max_queue,
        batch_size=batch_size,
        interval=DEFAULT_EXPORT.interval if delay is None else delay / 1000,
        timeout=DEFAULT_EXPORT.timeout if timeout is None else timeout / 1000,
        retry_for=DEFAULT_EXPORT.retry_for if retry is None else retry / 1000,
    ), problems
