"""Prometheus metrics, in a registry owned by the app (no process-global collectors)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.tool_calls = Counter(
            "toolrelay_mcp_tool_calls",
            "MCP tool calls by server, tool and outcome",
            ["server", "tool", "outcome"],
            registry=self.registry,
        )
        self.tool_latency = Histogram(
            "toolrelay_mcp_tool_duration_seconds",
            "MCP tool call latency",
            ["server", "tool"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.loop_iterations = Histogram(
            "toolrelay_middleware_loop_iterations",
            "Model calls per chat request",
            buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50),
            registry=self.registry,
        )
        self.requests = Counter(
            "toolrelay_middleware_requests",
            "Chat requests by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
