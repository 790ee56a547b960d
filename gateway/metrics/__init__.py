"""Prometheus metrics with LiteLLM's names and labels, recorded by request hooks."""

from gateway.metrics.definitions import GatewayMetrics
from gateway.metrics.exposition import (
    MULTIPROC_ENV,
    prepare_multiprocess_dir,
    render,
    worker_exited,
)
from gateway.metrics.hook import BudgetGaugeHook, MetricsHook

__all__ = [
    "MULTIPROC_ENV",
    "BudgetGaugeHook",
    "GatewayMetrics",
    "MetricsHook",
    "prepare_multiprocess_dir",
    "render",
    "worker_exited",
]
