"""Every LiteLLM callback name is implemented or named in one start-up warning."""

from __future__ import annotations

from pathlib import Path

import orjson
import yaml

from gateway.callbacks import RefusedCallback, plan_callbacks
from gateway.config import load_config
from gateway.config.schema import LiteLLMSettings
from tests.support.processes import free_port, start_service


def test_implemented_callbacks_are_honoured_without_a_warning() -> None:
    plan = plan_callbacks(
        LiteLLMSettings(
            success_callback=["langfuse", "prometheus"],
            failure_callback=["langfuse"],
            callbacks=["otel"],
        )
    )
    assert (plan.otel, plan.langfuse, plan.prometheus) == (True, True, True)
    assert plan.refused == ()
    assert plan.warning() is None


def test_other_names_are_refused_by_the_key_that_named_them() -> None:
    plan = plan_callbacks(
        LiteLLMSettings(
            success_callback=["datadog", "langfuse_otel"],
            failure_callback=["sentry", "datadog"],
            callbacks="custom_callbacks.proxy_handler_instance",
        )
    )
    assert plan.langfuse and not plan.otel
    assert plan.refused == (
        RefusedCallback("success_callback", "datadog"),
        RefusedCallback("failure_callback", "sentry"),
        RefusedCallback("callbacks", "custom_callbacks.proxy_handler_instance"),
    )
    warning = plan.warning()
    assert warning is not None
    for name in ("datadog", "sentry", "custom_callbacks.proxy_handler_instance"):
        assert name in warning
    assert "supported: langfuse, langfuse_otel, otel, prometheus" in warning


def test_langfuse_and_tracing_settings_keys_are_known(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "litellm_settings": {
                    "success_callback": ["langfuse"],
                    "langfuse_default_tags": ["prod"],
                    "langfuse_public_key": "pk",
                    "langfuse_secret": "sk",
                    "langfuse_host": "http://127.0.0.1:1",
                    "turn_off_message_logging": True,
                    "redact_user_api_key_info": True,
                }
            }
        )
    )
    assert load_config(config).warnings == []


def test_gateway_starts_with_one_warning_naming_an_unsupported_callback(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "litellm_settings": {
                    "success_callback": ["some_unsupported_callback"],
                    "langfuse_default_tags": ["prod"],
                },
                "general_settings": {"master_key": "sk-callbacks-test"},
            }
        )
    )
    port = free_port()
    service = start_service(
        "gateway-callbacks",
        ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(port)],
        port=port,
        log_dir=tmp_path,
    )
    try:
        records = [orjson.loads(line) for line in service.log().splitlines() if line]
    finally:
        service.stop()
    warnings = [r for r in records if r["level"] == "warning"]
    naming = [r for r in warnings if "some_unsupported_callback" in r.get("detail", "")]
    assert len(naming) == 1, warnings
    assert "success_callback: some_unsupported_callback" in naming[0]["detail"]
    assert not [r for r in warnings if "unknown key" in r.get("detail", "")]
