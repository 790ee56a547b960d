"""bench/middleware_load.py: the gateway config it writes, and the goal's ratio."""

from __future__ import annotations

from pathlib import Path

from bench.middleware_load import Run, Scenario, gateway_config, summarise
from gateway.config import load_config


def test_the_gateway_config_answers_upstream_errors_without_retries(tmp_path: Path) -> None:
    path = gateway_config(tmp_path / "gateway.yaml", 1234, ("size-200", "tool-call"))
    config = load_config(path)
    assert config.file.router_settings.num_retries == 0
    assert [m.model_name for m in config.file.model_list] == ["size-200", "tool-call"]


def _run(middleware: float, gateway: float) -> Run:
    cpu = {"middleware": middleware, "gateway": gateway, "mcp": 0.0, "upstream": 0.1}
    return Run(requests=1000, seconds=2.0, rps=500.0, errors=0, cpu=cpu)


def test_the_ratio_is_middleware_no_tool_cpu_over_the_gateway_alone() -> None:
    script = Path("unused.lua")
    scenarios = [
        Scenario("gateway", 1, script, None),
        Scenario("mw-no-tool", 2, script, "middleware"),
        Scenario("mw-one-tool", 2, script, "middleware"),
    ]
    runs = {
        "gateway": [_run(0.0, 0.5), _run(0.0, 0.4)],
        "mw-no-tool": [_run(0.6, 0.5), _run(0.8, 0.5)],
        "mw-one-tool": [_run(2.0, 1.0), _run(2.0, 1.0)],
    }
    summary = summarise(scenarios, runs)
    assert summary["gateway"]["cpu_us_per_request"] == {"gateway": 450.0, "upstream": 100.0}
    assert summary["mw-no-tool"]["cpu_us_per_request"]["middleware"] == 700.0
    assert summary["ratio"]["middleware_no_tool_over_gateway"] == 700.0 / 450.0
    assert summary["ratio"]["per_round"] == [1.2, 2.0]
    assert "change" not in summary
