"""Render the results JSON as the Markdown report (pure: dict in, text out)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

GATEWAYS = ("toolrelay", "litellm")


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _get(data: Mapping[str, Any], *path: str) -> Any:
    current: Any = data
    for key in path:
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return current


def targets_table(results: Mapping[str, Any]) -> list[list[Any]]:
    """The headline: each target figure, toolrelay's value, LiteLLM's, and whether met."""
    rows: list[list[Any]] = []

    def add(label: str, target: str, path: tuple[str, ...], check: Any = None) -> None:
        values = [_get(results, *path[:1], name, *path[1:]) for name in GATEWAYS]
        met = check(values[0], values[1]) if check and values[0] is not None else None
        rows.append([label, target, values[0], values[1], met])

    def le(limit: float) -> Any:
        return lambda ours, _theirs: ours <= limit

    add("Overhead c=1 p50 (ms)", "<= 0.5", ("overhead_size-200", "overhead_p50_ms"), le(0.5))
    add("Overhead c=1 p99 (ms)", "<= 1.5", ("overhead_size-200", "overhead_p99_ms"), le(1.5))
    add(
        "Self-reported overhead p50 (ms, header)",
        "info",
        ("overhead_size-200", "self_reported_p50_ms"),
    )
    add(
        "Saturation (req/s)",
        ">= 3000 and >= 5x LiteLLM",
        ("saturation_size-200", "rps_median"),
        lambda ours, theirs: ours >= 3000 and (theirs is None or ours >= 5 * theirs),
    )
    add(
        "Open loop 500 req/s p99 overhead (ms)",
        "<= 2",
        ("open_loop", "500", "overhead_p99_ms"),
        le(2),
    )
    add("Open loop 1000 req/s errors", "0", ("open_loop", "1000", "errors"), le(0))
    add("CPU per request (us)", "<= 300", ("saturation_size-200", "cpu_us_per_request"), le(300))
    add("RSS idle (MB)", "<= 80", ("rss_idle_mb",), le(80))
    add("RSS growth after N requests (%)", "<= 5", ("rss_growth", "growth_percent"), le(5))
    add("Cold start (s)", "<= 1.5", ("cold_start", "median_s"), le(1.5))
    add("Streaming added TTFT p50 (ms)", "<= 1", ("streaming", "added_ttft_p50_ms"), le(1))
    add("Streaming chunks held back", "0", ("streaming", "chunks_held_back"), le(0))
    return rows


def before_after(results: Mapping[str, Any]) -> list[list[Any]]:
    figures = [
        ("Overhead c=1 p50 (ms)", ("overhead_size-200", "overhead_p50_ms")),
        ("Overhead c=1 p99 (ms)", ("overhead_size-200", "overhead_p99_ms")),
        ("Self-reported overhead p50 (ms)", ("overhead_size-200", "self_reported_p50_ms")),
        ("Saturation req/s", ("saturation_size-200", "rps_median")),
        ("CPU us/request", ("saturation_size-200", "cpu_us_per_request")),
        ("req/s per full core", ("saturation_size-200", "rps_per_core")),
        ("Saturation req/s, size-10000", ("saturation_size-10000", "rps_median")),
        ("CPU us/request, size-10000", ("saturation_size-10000", "cpu_us_per_request")),
        ("Open loop 500 req/s p99 (ms)", ("open_loop", "500", "p99_ms")),
        ("Open loop 1000 req/s errors", ("open_loop", "1000", "errors")),
        ("Streaming added TTFT p50 (ms)", ("streaming", "added_ttft_p50_ms")),
        ("Cold start (s)", ("cold_start", "median_s")),
    ]
    return [
        [
            label,
            _get(results, path[0], "toolrelay-base", *path[1:]),
            _get(results, path[0], "toolrelay", *path[1:]),
        ]
        for label, path in figures
    ]


def _per_target(results: Mapping[str, Any], key: str, columns: list[tuple[str, str]]) -> str:
    section = results.get(key) or {}
    rows = [[name, *(_get(row, c) for _, c in columns)] for name, row in section.items()]
    return table(["target", *(h for h, _ in columns)], rows)


def noise_rows(results: Mapping[str, Any]) -> list[list[Any]]:
    """Per saturation figure and target: the min..max of its rounds and the relative spread
    ((max - min) / median) of CPU per request."""
    rows: list[list[Any]] = []
    for key, section in results.items():
        if not key.startswith("saturation_") or not isinstance(section, dict):
            continue
        for name, row in section.items():
            cpu = [float(x) for x in (row.get("cpu_us_all") or []) if x]
            rps = [float(x) for x in (row.get("rps_all") or []) if x]
            if len(cpu) < 2:
                continue
            mid = sorted(cpu)[len(cpu) // 2]
            rows.append(
                [
                    key.removeprefix("saturation_"),
                    name,
                    len(cpu),
                    f"{min(cpu):,.0f}..{max(cpu):,.0f}",
                    f"{(max(cpu) - min(cpu)) / mid:.0%}" if mid else "n/a",
                    f"{min(rps):,.0f}..{max(rps):,.0f}" if rps else "n/a",
                ]
            )
    return rows


def render(results: Mapping[str, Any]) -> str:
    meta = results.get("meta", {})
    out = [
        "# toolrelay benchmark results",
        "",
        f"Run: {meta.get('started', '?')} UTC, mode `{meta.get('mode', '?')}`, "
        f"command `{meta.get('command', '?')}`. Host: {meta.get('host', '?')}; load average at "
        f"start {meta.get('loadavg', '?')}, at end {meta.get('loadavg_end', '?')}. Servers pinned to core {meta.get('server_core')}, "
        f"load generators and fake upstream to core {meta.get('load_core')}.",
        "",
        "## Targets",
        "",
        table(["figure", "target", "toolrelay", "LiteLLM", "met"], targets_table(results)),
        "",
    ]
    if "toolrelay-base" in (results.get("rss_idle_mb") or {}):
        out += [
            f"## Before/after: toolrelay at `{meta.get('baseline_ref')}` vs this tree, same run",
            "",
            table(["figure", "before", "after"], before_after(results)),
            "",
        ]
    for model in ("size-200", "size-10000"):
        if f"overhead_{model}" in results:
            out += [
                f"## Latency at concurrency 1, `{model}` (ms)",
                "",
                _per_target(
                    results,
                    f"overhead_{model}",
                    [
                        ("n", "n"),
                        ("p50", "p50_ms"),
                        ("p99", "p99_ms"),
                        ("overhead p50", "overhead_p50_ms"),
                        ("overhead p99", "overhead_p99_ms"),
                        ("self-reported p50", "self_reported_p50_ms"),
                        ("self-reported p99", "self_reported_p99_ms"),
                    ],
                ),
                "",
            ]
        if f"saturation_{model}" in results:
            out += [
                f"## Saturation with wrk, `{model}`",
                "",
                _per_target(
                    results,
                    f"saturation_{model}",
                    [
                        ("req/s (median)", "rps_median"),
                        ("req/s per round", "rps_all"),
                        ("errors", "errors"),
                        ("CPU us/request", "cpu_us_per_request"),
                        ("req/s per full core (1e6/CPU us)", "rps_per_core"),
                        ("RSS under load MB", "rss_under_load_mb"),
                    ],
                ),
                "",
            ]
    noise = noise_rows(results)
    if noise:
        out += [
            "## Noise: how far the interleaved rounds of one target differ",
            "",
            "Each saturation round of a target is a separate wrk run; the spread of its CPU per "
            "request and req/s over the rounds is this run's noise for that target (`direct` is "
            "the fake upstream alone: the machine's floor). A before/after difference smaller "
            "than the spread is not a difference.",
            "",
            table(
                [
                    "figure",
                    "target",
                    "rounds",
                    "CPU us/request min..max",
                    "spread",
                    "req/s min..max",
                ],
                noise,
            ),
            "",
        ]
    if "open_loop" in results:
        rows = []
        for name, by_rate in results["open_loop"].items():
            for rate, row in by_rate.items():
                rows.append(
                    [
                        name,
                        rate,
                        row.get("sent"),
                        row.get("errors"),
                        row.get("p50_ms"),
                        row.get("p99_ms"),
                        row.get("overhead_p50_ms"),
                        row.get("overhead_p99_ms"),
                        row.get("generator_kept_up"),
                        row.get("generator_send_lag_p99_ms"),
                    ]
                )
        out += [
            "## Open loop (latency from the scheduled send time, ms)",
            "",
            table(
                [
                    "target",
                    "req/s",
                    "sent",
                    "errors",
                    "p50",
                    "p99",
                    "overhead p50",
                    "overhead p99",
                    "generator kept up",
                    "send lag p99",
                ],
                rows,
            ),
            "",
        ]
    if "streaming" in results:
        out += [
            "## Streaming (`slow-stream-10`: upstream sends a chunk every 10 ms)",
            "",
            _per_target(
                results,
                "streaming",
                [
                    ("n", "n"),
                    ("TTFT p50 ms", "ttft_p50_ms"),
                    ("TTFT p99 ms", "ttft_p99_ms"),
                    ("added TTFT p50 ms", "added_ttft_p50_ms"),
                    ("max chunk lag ms", "max_chunk_lag_ms"),
                    ("chunks held back", "chunks_held_back"),
                ],
            ),
            "",
        ]
    memory_rows = []
    for name in results.get("rss_idle_mb") or ("direct", *GATEWAYS):
        memory_rows.append(
            [
                name,
                _get(results, "rss_idle_mb", name),
                _get(results, "saturation_size-200", name, "rss_under_load_mb"),
                _get(results, "rss_growth", name, "requests"),
                _get(results, "rss_growth", name, "rss_after_warmup_mb"),
                _get(results, "rss_growth", name, "rss_after_mb"),
                _get(results, "rss_growth", name, "growth_percent"),
                _get(results, "cold_start", name, "median_s"),
            ]
        )
    out += [
        "## Memory and cold start",
        "",
        table(
            [
                "target",
                "RSS idle MB",
                "RSS under load MB",
                "growth requests",
                "RSS after warm-up MB",
                "RSS after MB",
                "growth %",
                "cold start s (median)",
            ],
            memory_rows,
        ),
        "",
    ]
    if results.get("fake_upstream_check"):
        check = results["fake_upstream_check"]
        out += [
            "## Is the fake upstream fast enough?",
            "",
            f"Direct {fmt(check.get('direct_rps'))} req/s vs toolrelay "
            f"{fmt(check.get('toolrelay_rps'))} req/s: ratio {fmt(check.get('ratio'))} "
            f"(needs >= 3): **{'ok' if check.get('ok') else 'NOT fast enough'}**.",
            "",
        ]
    for key, title in (
        ("middleware", "Middleware tool loop"),
        ("middleware_load", "Middleware under load"),
        ("memory_growth", "Memory under mixed load"),
    ):
        if results.get(key):
            out += [f"## {title}", "", str(results[key].get("markdown", "")), ""]
    for note in results.get("notes", []):
        out.append(f"- {note}")
    return "\n".join(out).rstrip() + "\n"
