from __future__ import annotations

from typing import Any

from bench.report import fmt, render, table, targets_table


def _results() -> dict[str, Any]:
    return {
        "meta": {"started": "20260101T000000Z", "mode": "quick", "command": "cmd"},
        "overhead_size-200": {
            "direct": {"n": 10, "p50_ms": 0.1, "p99_ms": 0.2},
            "toolrelay": {
                "n": 10,
                "p50_ms": 0.4,
                "p99_ms": 1.0,
                "overhead_p50_ms": 0.3,
                "overhead_p99_ms": 0.8,
            },
            "litellm": {
                "n": 10,
                "p50_ms": 9.0,
                "p99_ms": 20.0,
                "overhead_p50_ms": 8.9,
                "overhead_p99_ms": 19.8,
            },
        },
        "saturation_size-200": {
            "direct": {"rps_median": 20000.0, "cpu_us_per_request": 40.0},
            "toolrelay": {"rps_median": 4000.0, "cpu_us_per_request": 250.0},
            "litellm": {"rps_median": 500.0, "cpu_us_per_request": 2000.0},
        },
        "rss_idle_mb": {"direct": 40.0, "toolrelay": 60.0, "litellm": 300.0},
        "notes": ["a note"],
    }


def test_fmt() -> None:
    assert fmt(None) == "n/a"
    assert fmt(float("nan")) == "n/a"
    assert fmt(True) == "yes"
    assert fmt(1234567) == "1,234,567"
    assert fmt(3.14159) == "3.14"


def test_table_renders_markdown() -> None:
    assert table(["a", "b"], [[1, 2.5]]) == "| a | b |\n|---|---|\n| 1 | 2.50 |"


def test_targets_table_checks_each_target() -> None:
    rows = {row[0]: row for row in targets_table(_results())}
    assert rows["Overhead c=1 p50 (ms)"][2:] == [0.3, 8.9, True]
    assert rows["Overhead c=1 p99 (ms)"][4] is True
    # 4000 >= 3000 and >= 5 x 500
    assert rows["Saturation (req/s)"][2:] == [4000.0, 500.0, True]
    assert rows["CPU per request (us)"][4] is True
    assert rows["RSS idle (MB)"][2:] == [60.0, 300.0, True]
    assert rows["Cold start (s)"][2:] == [None, None, None]


def test_saturation_target_fails_below_five_times_litellm() -> None:
    results = _results()
    results["saturation_size-200"]["litellm"]["rps_median"] = 1000.0
    rows = {row[0]: row for row in targets_table(results)}
    assert rows["Saturation (req/s)"][4] is False


def test_render_contains_sections_and_notes() -> None:
    text = render(_results())
    assert text.startswith("# toolrelay benchmark results")
    assert "## Targets" in text
    assert "## Latency at concurrency 1, `size-200` (ms)" in text
    assert "| toolrelay | 10 | 0.40 | 1.00 | 0.30 | 0.80 |" in text
    assert "- a note" in text


def test_render_pastes_the_standalone_benchmarks_markdown() -> None:
    results = _results()
    results["middleware_load"] = {"markdown": "| mw-no-tool | 1 |"}
    results["memory_growth"] = {"markdown": "| gateway | +1.00 |"}
    text = render(results)
    assert "## Middleware under load\n\n| mw-no-tool | 1 |" in text
    assert "## Memory under mixed load\n\n| gateway | +1.00 |" in text


def test_noise_section_shows_each_targets_round_spread() -> None:
    results = _results()
    results["saturation_size-200"]["toolrelay"].update(
        {"cpu_us_all": [240.0, 250.0, 300.0], "rps_all": [3900.0, 4000.0, 4100.0]}
    )
    text = render(results)
    assert "## Noise: how far the interleaved rounds of one target differ" in text
    # (300 - 240) / median 250
    assert "| size-200 | toolrelay | 3 | 240..300 | 24% | 3,900..4,100 |" in text
    assert "| size-200 | litellm |" not in text  # one round: no spread to show
