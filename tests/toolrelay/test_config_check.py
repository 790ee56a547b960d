"""`toolrelay config check` over the config corpus (tests/config_corpus): every file gets the
exit status we expect, loads in every service unless it is an error, and the report names
key paths, lines and what happens instead."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from common.config import ConfigError, read_document
from gateway.config import load_config
from middleware.settings import settings_from_config
from toolrelay.cli import main
from toolrelay.config_check import run_check

CORPUS = Path(__file__).resolve().parents[1] / "config_corpus"
ENVIRON = {"OPENAI_API_KEY": "sk-test"}

# 0: every key honoured and every reference set; 1: warnings (ignored, unknown, tolerated);
# 2: a service refuses the file, as LiteLLM would.
EXPECTED = {
    "issue19-fallbacks-list_of_names.yaml": 1,  # ANTHROPIC_API_KEY unset
    "issue19-fallbacks-model_name_form.yaml": 1,
    "issue19-litellm_settings-database_url.yaml": 1,
    "issue19-mcp_server_env_unset.yaml": 1,
    "issue19-thinking_and_mode.yaml": 1,  # ANTHROPIC_API_KEY unset
    "litellm-docs-config_settings-all_settings.yaml": 1,
    "litellm-docs-configs-embedding_models.yaml": 1,
    "litellm-docs-configs-load_balancing.yaml": 1,
    "litellm-docs-configs-model_specific_params.yaml": 1,
    "litellm-docs-configs-quick_start.yaml": 1,
    "litellm-docs-reliability-load_balancing.yaml": 0,
    "litellm-example-_health_check_test_config.yaml": 1,
    "litellm-example-aliases_config.yaml": 0,
    "litellm-example-azure_config.yaml": 1,
    "litellm-example-azure_config_with_tpm.yaml": 0,
    "litellm-example-disable_schema_update.yaml": 1,
    "litellm-example-enterprise_config.yaml": 1,
    "litellm-example-load_balancer.yaml": 1,
    "litellm-example-multi_instance_simple_config.yaml": 1,
    "litellm-example-oai_misc_config.yaml": 1,
    "litellm-example-okta_jwt_auth_config.yaml": 1,
    "litellm-example-otel_test_config.yaml": 1,
    "litellm-example-pass_through_config.yaml": 1,
    "litellm-example-prometheus_test_config.yaml": 0,  # otel and prometheus both run here
    "litellm-example-queue.yaml": 0,
    "litellm-example-reject_clientside_metadata_tags_config.yaml": 1,
    "litellm-example-simple_config.yaml": 0,
    "litellm-example-spend_tracking_config.yaml": 1,
    "litellm-example-store_model_db_config.yaml": 1,
    "litellm-repo-proxy_server_config.yaml": 1,
    "toolrelay-clean.yaml": 0,
    "toolrelay-invalid_yaml.yaml": 2,
    "toolrelay-wrong_type.yaml": 2,
}


def test_every_corpus_file_is_listed_and_names_its_source() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.yaml"))
    assert files == sorted(EXPECTED)
    from_litellm = [name for name in files if name.startswith("litellm-")]
    assert len(from_litellm) >= 20
    for name in files:
        first = (CORPUS / name).read_text().splitlines()[0]
        assert first.startswith("# source: "), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_exit_status_and_loading(name: str) -> None:
    path = CORPUS / name
    out = io.StringIO()
    assert run_check(str(path), out, as_json_output=False, environ=ENVIRON) == EXPECTED[name]
    lines = out.getvalue().rstrip().splitlines()
    if name == "toolrelay-invalid_yaml.yaml":
        assert lines[0].startswith(f"{path}: invalid YAML")
    else:
        status_word = ("ok", "warnings", "errors")[EXPECTED[name]]
        assert lines[-1].startswith(f"{path}: {status_word}"), lines[-1]
    if EXPECTED[name] == 2:
        with pytest.raises(ConfigError):
            load_config(path, environ=ENVIRON)
        return
    load_config(path, environ=ENVIRON)
    settings_from_config(read_document(path, ENVIRON))


def _check(name: str, *, as_json: bool = False, environ: dict[str, str] | None = None) -> str:
    out = io.StringIO()
    run_check(str(CORPUS / name), out, as_json_output=as_json, environ=environ or ENVIRON)
    return out.getvalue()


def test_database_url_case_says_what_happens_instead() -> None:
    text = _check("issue19-litellm_settings-database_url.yaml")
    assert "litellm_settings.database_url (line 8): LiteLLM does not read" in text
    assert "SQLite file" in text


def test_fallback_forms_are_reported_with_their_lines() -> None:
    names = _check("issue19-fallbacks-list_of_names.yaml")
    assert (
        "router_settings.fallbacks (line 12): model names ['claude-3-5-sonnet-20241022']" in names
    )
    skipped = _check("issue19-fallbacks-model_name_form.yaml")
    assert (
        "router_settings.fallbacks[0] (line 13): entry with keys {model_name, fallbacks}" in skipped
    )


def test_report_sorts_keys_into_honoured_ignored_unknown_wrong() -> None:
    report = json.loads(_check("issue19-thinking_and_mode.yaml", as_json=True))
    gateway = {(f["verdict"], f["path"]): f for f in report["services"]["gateway"]}
    assert ("honoured", "model_list[0].litellm_params") in gateway
    assert "thinking" in gateway[("honoured", "model_list[0].litellm_params")]["message"]
    assert ("honoured", "model_list[2].model_info.mode") in gateway
    missing = gateway[("wrong", "model_list[0].litellm_params.api_key")]
    assert missing["line"] == 6
    assert "ANTHROPIC_API_KEY is not set" in missing["message"]
    assert report["status"] == 1


def test_each_callback_is_reported_as_run_or_not_supported() -> None:
    """LiteLLM's docs config names langfuse, otel and sentry: the first two run here."""
    report = json.loads(_check("litellm-docs-config_settings-all_settings.yaml", as_json=True))
    found = {
        (f["verdict"], f["path"]): f["message"]
        for f in report["services"]["gateway"]
        if f["path"].endswith("callback") or f["path"].endswith("callbacks")
    }
    assert "langfuse" in found[("honoured", "litellm_settings.success_callback")]
    assert "OpenTelemetry" in found[("honoured", "litellm_settings.callbacks")]
    refused = found[("ignored", "litellm_settings.failure_callback")]
    assert refused.startswith("not supported by toolrelay, not run: sentry")
    assert ("ignored", "litellm_settings.success_callback") not in found


def test_litellm_environment_variables_are_checked() -> None:
    environ = {**ENVIRON, "LITELLM_MODE": "PRODUCTION", "LITELLM_SALT_KEY": "salt"}
    text = _check("toolrelay-clean.yaml", environ=environ)
    assert "env LITELLM_MODE: not used: toolrelay has no development/production mode" in text
    # the model store encrypts stored credentials with it: honoured, never "not used"
    assert "env LITELLM_SALT_KEY: not used" not in text
    assert _check("toolrelay-clean.yaml").rstrip().endswith("0 wrong)")


def test_unknown_and_ignored_keys_and_provider_problems(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # no AWS config of this machine may give the bedrock/ entry a region
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    text = _check("litellm-docs-configs-quick_start.yaml")
    assert (
        "general_settings.alerting (line 41): a LiteLLM setting toolrelay does not implement"
        in text
    )
    assert (
        "model_list[1].litellm_params.model (line 11): no AWS region: set "
        "litellm_params.aws_region_name" in text
    )
    assert "model_list[3].litellm_params.model" not in text  # it names its region
    assert "aws_region_name (line 22): bedrock/: the region signed for" in text


def test_per_unit_prices_are_honoured_where_litellm_puts_them() -> None:
    report = json.loads(_check("litellm-repo-proxy_server_config.yaml", as_json=True))
    gateway = {f["path"]: f for f in report["services"]["gateway"]}
    per_second = next(
        f for path, f in gateway.items() if path.endswith("litellm_params.input_cost_per_second")
    )
    assert per_second["verdict"] == "honoured"
    assert "transcribed audio" in per_second["message"]


def test_cli_exit_codes_and_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["config", "check", str(CORPUS / "toolrelay-clean.yaml")]) in (0, 1)
    assert main(["config", "check", str(tmp_path / "absent.yaml")]) == 2
    assert capsys.readouterr().out.strip().endswith("absent.yaml: file not found")
    assert main(["config", "check", "--json", str(CORPUS / "toolrelay-wrong_type.yaml")]) == 2
    payload = json.loads(capsys.readouterr().out)
    [error] = payload["services"]["gateway"]
    assert error["path"] == "model_list[0].litellm_params.rpm"
    assert error["fatal"] is True
    assert error["line"] == 6


def test_inferred_providers_and_keys_from_the_environment_are_reported(tmp_path: Path) -> None:
    config = tmp_path / "bare.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: claude\n"
        "    litellm_params:\n"
        "      model: claude-3-5-sonnet-20241022\n"
        "  - model_name: local\n"
        "    litellm_params:\n"
        "      model: my-local-model\n"
        "      api_base: http://127.0.0.1:9/v1\n"
        "      api_key: sk-local\n"
    )
    out = io.StringIO()
    environ = {"ANTHROPIC_API_KEY": "sk-ant-never-shown"}
    assert run_check(str(config), out, as_json_output=False, environ=environ) == 0
    text = out.getvalue()
    assert (
        "model_list[0].litellm_params.model (line 4): provider anthropic, "
        "inferred from the model name" in text
    )
    assert (
        "model_list[0].litellm_params (line 3): api_key not set: taken from the "
        "environment variable ANTHROPIC_API_KEY" in text
    )
    assert "model_list[1].litellm_params.model" not in text  # unknown: OpenAI-compatible
    assert "sk-ant-never-shown" not in text
