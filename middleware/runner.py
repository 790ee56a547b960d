"""Run one MCP tool call: the pool call, result shaping, a log line and metrics."""

from __future__ import annotations

import time

import structlog

from middleware.artifacts import ArtifactStore
from middleware.context import current_request_id
from middleware.mcp_pool import McpPool, ToolCallFailure
from middleware.metrics import Metrics
from middleware.results import ShapedResult, shape_result
from middleware.tracing import record_tool_outcome, tool_span

logger = structlog.get_logger("middleware.tools")


class ToolRunner:
    def __init__(
        self, pool: McpPool, store: ArtifactStore, metrics: Metrics, *, max_chars: int
    ) -> None:
        self.pool = pool
        self.store = store
        self.metrics = metrics
        self.max_chars = max_chars

    async def run(
        self, server: str, tool: str, arguments: dict[str, object], user: str | None = None
    ) -> ShapedResult:
        """`user` is the end user's session scope (see `end_user`), for stateful servers."""
        with tool_span(server, tool) as span:
            shaped = await self._run(server, tool, arguments, user)
            record_tool_outcome(span, shaped.outcome)
            return shaped

    async def _run(
        self, server: str, tool: str, arguments: dict[str, object], user: str | None
    ) -> ShapedResult:
        started = time.perf_counter()
        outcome = "ok"
        try:
            result = await self.pool.call(server, tool, arguments, user)
            shaped = await shape_result(result, self.store, self.max_chars)
            if result.is_error:
                outcome = "tool_error"
            elif shaped.outcome == "storage":
                outcome = "storage_error"
        except ToolCallFailure as exc:
            outcome = exc.outcome
            shaped = ShapedResult(f"Tool error ({exc.outcome}): {exc}", is_error=True)
        shaped.outcome = outcome
        duration = time.perf_counter() - started
        self.metrics.tool_calls.labels(server, tool, outcome).inc()
        self.metrics.tool_latency.labels(server, tool).observe(duration)
        logger.info(
            "tool call",
            server=server,
            tool=tool,
            duration_ms=round(duration * 1000, 1),
            outcome=outcome,
            request_id=current_request_id(),
        )
        return shaped
