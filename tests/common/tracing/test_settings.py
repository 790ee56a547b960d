"""Which exporters tracing uses, from the callbacks and the standard environment."""

from __future__ import annotations

import base64

from common.tracing.settings import TracingKeys, TracingSettings, parse_headers, tracing_settings


def _settings(env: dict[str, str], **litellm: object) -> TracingSettings:
    return tracing_settings(TracingKeys.from_section(litellm, "<test>"), env, service_name="svc")


def test_off_without_callback_or_environment() -> None:
    settings = _settings({})
    assert not settings.enabled
    assert not settings.record_content and not settings.record_key_info


def test_otel_callback_uses_the_standard_default_endpoint() -> None:
    (target,) = _settings({}, callbacks=["otel"]).targets
    assert target.endpoint == "http://localhost:4318/v1/traces"


def test_environment_alone_turns_it_on_with_headers() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
        "OTEL_EXPORTER_OTLP_HEADERS": "x-team=a%20b,authorization=Bearer t",
        "OTEL_SERVICE_NAME": "edge",
    }
    settings = _settings(env)
    (target,) = settings.targets
    assert target.endpoint == "http://collector:4318/v1/traces"
    assert target.headers == {"x-team": "a b", "authorization": "Bearer t"}
    assert settings.service_name == "edge"
    traces_only = _settings({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:1/custom"})
    assert traces_only.targets[0].endpoint == "http://c:1/custom"


def test_sdk_disabled_wins_over_the_callback() -> None:
    assert not _settings({"OTEL_SDK_DISABLED": "true"}, callbacks=["otel"]).enabled
    assert not _settings({"OTEL_TRACES_EXPORTER": "none"}, callbacks=["otel"]).enabled


def test_langfuse_posts_to_its_otlp_path_with_basic_auth() -> None:
    env = {"LANGFUSE_PUBLIC_KEY": "pk-1", "LANGFUSE_SECRET_KEY": "sk-1"}
    settings = _settings(
        {**env, "LANGFUSE_HOST": "http://lf:3000/"},
        success_callback=["langfuse"],
        langfuse_default_tags=["prod"],
    )
    (target,) = settings.targets
    assert target.endpoint == "http://lf:3000/api/public/otel/v1/traces"
    expected = base64.b64encode(b"pk-1:sk-1").decode()
    assert target.headers == {"Authorization": f"Basic {expected}"}
    assert settings.default_tags == ("prod",)
    # The config's own langfuse_* keys take precedence over the environment.
    configured = _settings(
        env,
        success_callback=["langfuse"],
        langfuse_public_key="pk-2",
        langfuse_secret_key="sk-2",
        langfuse_host="http://other",
    )
    assert configured.targets[0].endpoint == "http://other/api/public/otel/v1/traces"
    assert (
        configured.targets[0]
        .headers["Authorization"]
        .endswith(base64.b64encode(b"pk-2:sk-2").decode())
    )


def test_langfuse_without_keys_is_a_warning_not_a_target() -> None:
    settings = _settings({}, success_callback=["langfuse"])
    assert not settings.enabled
    assert "LANGFUSE_PUBLIC_KEY" in settings.problems[0]


def test_content_and_key_info_only_when_explicitly_allowed() -> None:
    on = _settings({}, turn_off_message_logging=False, redact_user_api_key_info=False)
    assert on.record_content and on.record_key_info
    off = _settings({}, turn_off_message_logging=True, redact_user_api_key_info=True)
    assert not off.record_content and not off.record_key_info


def test_parse_headers_skips_malformed_items() -> None:
    assert parse_headers("a=1,,novalue, b = 2 ") == {"a": "1", "b": "2"}
