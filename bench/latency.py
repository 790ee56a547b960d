"""Concurrency-1 figures: overhead over direct, and streaming time to first token / chunk lag.

Each target gets its own keep-alive connection; rounds interleave the targets (rotating who
goes first) and the samples of all rounds are pooled per target.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.rawhttp import BlockingClient
from bench.stats import median, percentile, summarize
from bench.targets import Target, chat_request, rotate

OVERHEAD_HEADER = "x-litellm-overhead-duration-ms"


class BadResponse(Exception):
    pass


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)  # seconds
    self_reported_ms: list[float] = field(default_factory=list)  # the overhead header


def sequential_latency(
    targets: list[Target], model: str, *, rounds: int, per_round: int, warmup: int = 50
) -> dict[str, Samples]:
    clients = {t.name: BlockingClient("127.0.0.1", t.port) for t in targets}
    raws = {t.name: chat_request(t.port, model) for t in targets}
    samples = {t.name: Samples() for t in targets}
    try:
        for t in targets:
            for _ in range(warmup):
                clients[t.name].request(raws[t.name])
        for r in range(rounds):
            for t in rotate(targets, r):
                client, raw, out = clients[t.name], raws[t.name], samples[t.name]
                for _ in range(per_round):
                    started = time.perf_counter()
                    response = client.request(raw)
                    out.latencies.append(time.perf_counter() - started)
                    if response.status != 200:
                        raise BadResponse(f"{t.name} answered {response.status}")
                    reported = response.headers.get(OVERHEAD_HEADER)
                    if reported is not None:
                        out.self_reported_ms.append(float(reported))
    finally:
        for client in clients.values():
            client.close()
    return samples


def overhead_table(samples: dict[str, Samples], baseline: str = "direct") -> dict[str, object]:
    """Per target: latency percentiles (ms), and the difference to the baseline's."""
    base = summarize(samples[baseline].latencies)
    table: dict[str, object] = {}
    for name, s in samples.items():
        summary = summarize(s.latencies)
        row: dict[str, object] = {
            "n": summary.count,
            "p50_ms": summary.p50 * 1e3,
            "p99_ms": summary.p99 * 1e3,
        }
        if name != baseline:
            row["overhead_p50_ms"] = (summary.p50 - base.p50) * 1e3
            row["overhead_p99_ms"] = (summary.p99 - base.p99) * 1e3
        if s.self_reported_ms:
            row["self_reported_p50_ms"] = median(s.self_reported_ms)
            row["self_reported_p99_ms"] = percentile(s.self_reported_ms, 99)
        table[name] = row
    return table


@dataclass
class StreamSamples:
    ttft: list[float] = field(default_factory=list)
    arrivals: list[list[float]] = field(default_factory=list)  # per request, per SSE event


def streaming_latency(
    targets: list[Target], model: str, *, rounds: int, per_round: int, warmup: int = 3
) -> dict[str, StreamSamples]:
    clients = {t.name: BlockingClient("127.0.0.1", t.port) for t in targets}
    raws = {t.name: chat_request(t.port, model, stream=True) for t in targets}
    samples = {t.name: StreamSamples() for t in targets}
    try:
        for t in targets:
            for _ in range(warmup):
                clients[t.name].request(raws[t.name])
        for r in range(rounds):
            for t in rotate(targets, r):
                for _ in range(per_round):
                    events: list[float] = []
                    started = time.perf_counter()
                    response = clients[t.name].request(raws[t.name], events)
                    if response.status != 200 or not events:
                        raise BadResponse(f"{t.name} stream answered {response.status}")
                    arrivals = [e - started for e in events]
                    samples[t.name].ttft.append(arrivals[0])
                    samples[t.name].arrivals.append(arrivals)
    finally:
        for client in clients.values():
            client.close()
    return samples


def chunk_lags(gateway: StreamSamples, direct: StreamSamples) -> list[float]:
    """Median arrival time of each SSE event through the gateway minus directly (seconds).
    The final `[DONE]`/usage events may differ between servers, so only the shared prefix
    of content events is compared."""
    count = min(min(len(a) for a in gateway.arrivals), min(len(a) for a in direct.arrivals)) - 1
    return [
        median([a[i] for a in gateway.arrivals]) - median([a[i] for a in direct.arrivals])
        for i in range(max(count, 1))
    ]


def streaming_table(
    samples: dict[str, StreamSamples], chunk_delay_s: float, baseline: str = "direct"
) -> dict[str, object]:
    """A chunk counts as held back if it arrives later than the first one did by more than
    half the upstream's inter-chunk delay (a held-back chunk is late by a whole delay)."""
    base = samples[baseline]
    table: dict[str, object] = {}
    for name, s in samples.items():
        row: dict[str, object] = {
            "n": len(s.ttft),
            "ttft_p50_ms": median(s.ttft) * 1e3,
            "ttft_p99_ms": percentile(s.ttft, 99) * 1e3,
            "events": min(len(a) for a in s.arrivals),
        }
        if name != baseline:
            lags = chunk_lags(s, base)
            added = median(s.ttft) - median(base.ttft)
            row["added_ttft_p50_ms"] = added * 1e3
            row["max_chunk_lag_ms"] = max(lags) * 1e3
            row["chunks_held_back"] = sum(1 for lag in lags if lag - added > chunk_delay_s / 2)
        table[name] = row
    return table
