"""What OpenTelemetry tracing costs: CPU time per request with tracing off and on.

Starts two identical stacks on loopback (fake upstream shared; gateway + middleware each),
one exporting every span over OTLP/HTTP to a local receiver, the other with tracing off. It
then sends interleaved rounds of chat requests to both, through the middleware (one model
call per chat: 4 spans across both services) and straight to the gateway (2 spans), and
reads the services' CPU time (utime+stime from /proc) before and after each round.

    uv run python bench/tracing_cost.py [--requests 400] [--rounds 5] [--concurrency 8]

Overhead = (CPU per request on - off) / off, from the medians over rounds. The export thread
runs inside the services, so its CPU is counted. A third stack samples (standard
`OTEL_TRACES_SAMPLER=parentbased_traceidratio`, `--sample-ratio`), the knob for busy sites.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procstat import sample
from testing.fake_upstream import command_args
from tests.support.otlp_receiver import running_receiver
from tests.support.processes import ServiceProcess, free_port, start_service

MASTER_KEY = "sk-bench-tracing"
MODEL = "size-200"


@dataclass
class Stack:
    name: str
    gateway: ServiceProcess
    middleware: ServiceProcess

    def cpu(self, *, with_middleware: bool) -> float:
        total = sample(self.gateway.process.pid).cpu_seconds
        if with_middleware:
            total += sample(self.middleware.process.pid).cpu_seconds
        return total

    def stop(self) -> None:
        self.middleware.stop()
        self.gateway.stop()


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def start_stack(name: str, upstream: str, logs: Path, env: dict[str, str]) -> Stack:
    # Each stack its own data directory: a shared SQLite file and spend journal would make
    # the stacks wait on each other, unevenly.
    env = {**env, "TOOLRELAY_HOME": str(logs / f"home-{name}")}
    gateway_file = _write(
        logs / f"{name}-gateway.yaml",
        {
            "model_list": [
                {
                    "model_name": MODEL,
                    "litellm_params": {
                        "model": f"openai/{MODEL}",
                        "api_base": f"{upstream}/v1",
                        "api_key": "fake",
                    },
                }
            ],
            "general_settings": {"master_key": MASTER_KEY},
        },
    )
    port = free_port()
    gateway = start_service(
        f"{name}-gateway",
        ["-m", "toolrelay", "gateway", "--config", str(gateway_file), "--port", str(port)],
        port=port, log_dir=logs, env=env, timeout=60,
    )  # fmt: skip
    middleware_file = _write(
        logs / f"{name}-middleware.yaml",
        {
            "general_settings": {"master_key": MASTER_KEY},
            "middleware_settings": {"gateway_url": gateway.url},
            "storage": {"local_dir": str(logs / f"{name}-artifacts")},
        },
    )
    port = free_port()
    middleware = start_service(
        f"{name}-middleware",
        ["-m", "toolrelay", "middleware", "--config", str(middleware_file), "--port", str(port)],
        port=port, log_dir=logs, env=env, timeout=60,
    )  # fmt: skip
    return Stack(name, gateway, middleware)


async def send(url: str, count: int, concurrency: int) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    queue = iter(range(count))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            for _ in queue:
                response = await client.post(url, json=body, headers=headers)
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def measure(stack: Stack, path: str, count: int, concurrency: int) -> float:
    """CPU microseconds per request over one round."""
    via_middleware = path == "middleware"
    base = stack.middleware.url if via_middleware else stack.gateway.url
    before = stack.cpu(with_middleware=via_middleware)
    asyncio.run(send(f"{base}/v1/chat/completions", count, concurrency))
    after = stack.cpu(with_middleware=via_middleware)
    return (after - before) / count * 1e6


def sdk_span_cost(count: int = 5000) -> tuple[float, float]:
    """CPU microseconds per span in this process: creating and ending one span with the
    attributes a gateway span carries, and encoding it to OTLP protobuf (export thread)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class Keep(SpanExporter):
        def __init__(self) -> None:
            self.spans: list[ReadableSpan] = []

        def export(self, spans: Any) -> SpanExportResult:
            self.spans.extend(spans)
            return SpanExportResult.SUCCESS

    keep = Keep()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(keep))
    tracer = provider.get_tracer("bench")
    attributes = {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": MODEL,
        "gen_ai.provider.name": "openai", "toolrelay.request_id": "0" * 32,
        "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 40,
    }  # fmt: skip
    started = time.process_time()
    for _ in range(count):
        with tracer.start_as_current_span("chat size-200", attributes=attributes):
            pass
    created = time.process_time() - started
    started = time.process_time()
    for i in range(0, len(keep.spans), 256):
        encode_spans(keep.spans[i : i + 256]).SerializePartialToString()
    encoded = time.process_time() - started
    return created / count * 1e6, encoded / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sample-ratio", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tracing-") as tmp, running_receiver() as rx:
        logs = Path(tmp)
        port = free_port()
        upstream = start_service(
            "fake-upstream", command_args(port, record_limit=1), port=port, log_dir=logs,
            health_path="/health",
        )  # fmt: skip
        stacks = []
        try:
            configs = {
                "off": {},
                "on": {"OTEL_EXPORTER_OTLP_ENDPOINT": rx.base_url},
                "sampled": {
                    "OTEL_EXPORTER_OTLP_ENDPOINT": rx.base_url,
                    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                    "OTEL_TRACES_SAMPLER_ARG": str(args.sample_ratio),
                },
            }
            for name, env in configs.items():
                stacks.append(start_stack(name, upstream.url, logs, env))
            for stack in stacks:  # warm-up: connection pools, first-call imports
                measure(stack, "middleware", 50, args.concurrency)
                measure(stack, "gateway", 50, args.concurrency)
            results: dict[tuple[str, str], list[float]] = {}
            for round_number in range(args.rounds):
                shift = round_number % len(stacks)
                order = stacks[shift:] + stacks[:shift]
                for path in ("middleware", "gateway"):
                    for stack in order:
                        cost = measure(stack, path, args.requests, args.concurrency)
                        results.setdefault((stack.name, path), []).append(cost)
            spans = len(rx.snapshot())
        finally:
            for stack in stacks:
                stack.stop()
            upstream.stop()
    print(f"requests per round {args.requests}, rounds {args.rounds}, "
          f"concurrency {args.concurrency}; spans received by the OTLP receiver: {spans}")  # fmt: skip
    ratio = f"{args.sample_ratio:g}"
    print(f"| path | off (CPU us/req) | on | overhead | sampled {ratio} | overhead |")
    print("|---|---|---|---|---|---|")
    for path, label in (("middleware", "middleware + gateway"), ("gateway", "gateway alone")):
        off_us = statistics.median(results[("off", path)])
        cells = [f"{off_us:.0f}"]
        for name in ("on", "sampled"):
            us = statistics.median(results[(name, path)])
            cells += [f"{us:.0f}", f"{(us - off_us) / off_us * 100:+.1f}%"]
        print(f"| {label} | " + " | ".join(cells) + " |")
    create_us, encode_us = sdk_span_cost()
    print(f"SDK cost per span (6 attributes): create+end {create_us:.0f} us, "
          f"OTLP encode {encode_us:.0f} us")  # fmt: skip


if __name__ == "__main__":
    main()
