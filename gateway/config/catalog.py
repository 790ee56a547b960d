"""What toolrelay knows of LiteLLM's config keys and environment variables beyond its schema.

A key in these tables is a LiteLLM setting that toolrelay accepts and does not act on
(`ignored`); a key in neither the schema nor here is `unknown`. Names come from LiteLLM's
config reference (docs/proxy/config_settings.md) and its proxy source.
"""

from __future__ import annotations

TOP_LEVEL_IGNORED = frozenset(
    {
        "callback_settings",
        "guardrails",
        "assistant_settings",
        "files_settings",
        "finetune_settings",
        "credential_list",
        "alerting_settings",
        "search_tools",
        "vector_store_registry",
        "prompts",
        "pass_through_endpoints",
        "model_group_settings",
        "mcp_tools",
    }
)

SECTION_IGNORED: dict[str, frozenset[str]] = {
    "litellm_settings": frozenset(
        {
            "service_callbacks",
            "turn_off_message_logging",
            "redact_user_api_key_info",
            "langfuse_default_tags",
            "force_ipv4",
            "mcp_aliases",
            "modify_params",
            "enable_preview_features",
            "disable_end_user_cost_tracking",
            "disable_end_user_cost_tracking_prometheus_only",
            "key_generation_settings",
            "disable_add_transform_inline_image_block",
            "disable_hf_tokenizer_download",
            "enable_json_schema_validation",
            "enable_key_alias_format_validation",
            "disable_copilot_system_to_assistant",
            "use_chat_completions_url_for_anthropic_messages",
            "default_team_settings",
            "default_internal_user_params",
            "max_internal_user_budget",
            "internal_user_budget_duration",
            "public_teams",
            "return_response_headers",
            "telemetry",
            "model_alias_map",
            "redact_messages_in_exceptions",
            "context_window_fallback_dict",
            "tag_budget_config",
            "prometheus_initialize_budget_metrics",
            "allowed_fails",
            "global_disable_no_log_param",
        }
    ),
    "general_settings": frozenset(
        {
            "completion_model",
            "disable_spend_updates",
            "disable_master_key_return",
            "disable_retry_on_max_parallel_request_limit_error",
            "disable_reset_budget",
            "disable_adding_master_key_hash_to_db",
            "disable_responses_id_security",
            "reject_clientside_metadata_tags",
            "allowed_routes",
            "key_management_system",
            "key_management_settings",
            "maximum_spend_logs_retention_interval",
            "user_mcp_management_mode",
            "database_connection_pool_limit",
            "database_connection_timeout",
            "custom_auth",
            "global_max_parallel_requests",
            "infer_model_from_keys",
            "health_check_details",
            "alerting",
            "alerting_threshold",
            "alerting_args",
            "alert_types",
            "alert_to_webhook_url",
            "use_client_credentials_pass_through_routes",
            "public_routes",
            "enforced_params",
            "enable_oauth2_auth",
            "enable_oauth2_proxy_auth",
            "oauth2_config_mappings",
            "use_x_forwarded_for",
            "service_account_settings",
            "image_generation_model",
            "embedding_model",
            "moderation_model",
            "store_model_in_db",
            "supported_db_objects",
            "max_response_size_mb",
            "proxy_budget_rescheduler_min_time",
            "proxy_budget_rescheduler_max_time",
            "proxy_batch_polling_interval",
            "custom_key_generate",
            "allowed_ips",
            "default_team_disabled",
            "allow_user_auth",
            "user_api_key_cache_ttl",
            "disable_prisma_schema_update",
            "litellm_key_header_name",
            "custom_sso",
            "allow_client_side_credentials",
            "admin_only_routes",
            "use_azure_key_vault",
            "use_google_kms",
            "spend_report_frequency",
            "ui_access_mode",
            "litellm_license",
            "pass_through_endpoints",
            "forward_openai_org_id",
            "use_redis_transaction_buffer",
            "use_shared_health_check",
        }
    ),
    "router_settings": frozenset(
        {
            "redis_db",
            "enable_pre_call_check",
            "enable_pre_call_checks",
            "enable_tag_filtering",
            "tag_filtering_match_any",
            "allowed_fails_policy",
            "default_max_parallel_requests",
            "default_priority",
            "polling_interval",
            "max_fallbacks",
            "default_litellm_params",
            "stream_timeout",
            "debug_level",
            "client_ttl",
            "cache_kwargs",
            "caching_groups",
            "set_verbose",
            "retry_after",
            "provider_budget_config",
            "cache_responses",
            "optional_pre_call_checks",
            "deployment_affinity_ttl_seconds",
            "ignore_invalid_deployments",
            "search_tools",
            "guardrail_list",
        }
    ),
}

# Deployment settings beyond the schema that a provider reads, and what they do there.
LITELLM_PARAMS_PROVIDER = {
    "vertex_project": "vertex_ai/: the Google Cloud project",
    "vertex_location": "vertex_ai/: the region",
    "vertex_credentials": "vertex_ai/: the service-account key (else ADC)",
    "aws_access_key_id": "bedrock/: signs requests (SigV4)",
    "aws_secret_access_key": "bedrock/: signs requests (SigV4)",
    "aws_session_token": "bedrock/: temporary credentials",
    "aws_region_name": "bedrock/: the region signed for and its endpoint",
    "aws_profile_name": "bedrock/: the AWS profile for credentials and region",
    "aws_bedrock_runtime_endpoint": "bedrock/: the runtime endpoint (like api_base)",
}

# Deployment settings LiteLLM reads that toolrelay's providers do not use.
LITELLM_PARAMS_IGNORED = frozenset(
    {
        "aws_role_name",
        "aws_session_name",
        "region_name",
        "custom_llm_provider",
        "max_retries",
        "tags",
        "use_in_pass_through",
        "merge_reasoning_content_in_choices",
        "litellm_credential_name",
        "configurable_clientside_auth_params",
        "mock_response",
        "output_cost_per_second",
        "max_budget",
        "budget_duration",
        "azure_ad_token",
        "azure_ad_token_provider",
        "tenant_id",
        "client_id",
        "client_secret",
        "drop_params",
        "additional_drop_params",
        "auto_router_config",
        "use_litellm_proxy",
        "model_info",
    }
)

# Price fields read from `litellm_params` or `model_info` (gateway/spend/prices.py).
PRICE_FIELDS = {
    "cache_read_input_token_cost": "prices cached input tokens",
    "cache_creation_input_token_cost": "prices cache-write input tokens",
    "output_cost_per_image": "prices each generated image",
    "input_cost_per_character": "prices each character of speech input",
    "input_cost_per_second": "prices each second of transcribed audio (chat is priced per token)",
    "input_cost_per_query": "prices each rerank query",
}

# Settings toolrelay's schema declares for compatibility but does not act on.
DECLARED_BUT_IGNORED = {
    ("litellm_settings", "set_verbose"): "use --log-level debug",
}

# model_info.mode values toolrelay's health check acts on.
HEALTH_CHECK_MODES = frozenset({"chat", "embedding"})

# LiteLLM proxy environment variables: honoured, with what they do here.
ENV_HONOURED = {
    "LITELLM_MASTER_KEY": "overrides general_settings.master_key",
    "DATABASE_URL": "overrides general_settings.database_url",
    "DATABASE_HOST": "with DATABASE_USERNAME/PASSWORD/NAME, builds the database URL",
    "DATABASE_USERNAME": "with DATABASE_HOST/PASSWORD/NAME, builds the database URL",
    "DATABASE_PASSWORD": "with DATABASE_HOST/USERNAME/NAME, builds the database URL",
    "DATABASE_NAME": "with DATABASE_HOST/USERNAME/PASSWORD, builds the database URL",
    "DATABASE_PORT": "the port of the database URL built from DATABASE_HOST",
    "REDIS_URL": "shared router state, limits and cache",
    "REDIS_SOCKET_TIMEOUT": "seconds a Redis call may take before the caller takes its "
    "degraded mode (default 0.25)",
    "JWT_PUBLIC_KEY_URL": "the JWKS URL for JWT auth",
    "JWT_AUDIENCE": "the expected JWT audience",
    "JWT_ISSUER": "the expected JWT issuer",
    "GENERIC_CLIENT_ID": "admin page sign-in (OIDC)",
    "GENERIC_CLIENT_SECRET": "admin page sign-in (OIDC)",
    "GENERIC_AUTHORIZATION_ENDPOINT": "admin page sign-in (OIDC)",
    "GENERIC_TOKEN_ENDPOINT": "admin page sign-in (OIDC)",
    "GENERIC_SCOPE": "admin page sign-in (OIDC)",
    "SSL_VERIFY": "TLS verification of upstreams (true, false or a CA bundle); wins over "
    "litellm_settings.ssl_verify",
    "SSL_CERT_FILE": "the CA bundle upstream certificates are verified against",
    "REQUESTS_CA_BUNDLE": "the CA bundle upstream certificates are verified against "
    "(when SSL_CERT_FILE is unset)",
    "STORE_MODEL_IN_DB": "models added at runtime (/model/new) are kept in the database",
    "LITELLM_SALT_KEY": "encrypts the credentials of models kept in the database",
}

# LiteLLM proxy environment variables toolrelay does not act on, and what happens instead.
ENV_IGNORED = {
    "LITELLM_MODE": "toolrelay has no development/production mode and loads no .env file",
    "PROXY_BASE_URL": "links are built from the request; for /files URLs set "
    "middleware_settings.public_url",
    "LITELLM_LOG": "use --log-level",
    "UI_USERNAME": "the admin page signs in with the master key or OIDC",
    "UI_PASSWORD": "the admin page signs in with the master key or OIDC",
    "LITELLM_LICENSE": "there are no enterprise features to unlock",
    "REDIS_HOST": "set REDIS_URL or router_settings.redis_host",
    "REDIS_PORT": "set REDIS_URL or router_settings.redis_port",
    "REDIS_PASSWORD": "set REDIS_URL or router_settings.redis_password",
    "SERVER_ROOT_PATH": "toolrelay serves at the root path",
    "PROXY_LOGOUT_URL": "the admin page has its own sign-out",
    "DISABLE_ADMIN_UI": "the admin page is always served at /ui",
    "NO_DOCS": "toolrelay serves no Swagger page",
    "DATABASE_SCHEMA": "toolrelay uses the database's default schema",
    "DATABASE_USER": "use DATABASE_USERNAME (or DATABASE_URL)",
    "USE_PRISMA_MIGRATE": "toolrelay migrates its own tables at start",
    "DISABLE_SCHEMA_UPDATE": "toolrelay migrates its own tables at start",
    "CONFIG_FILE_PATH": "pass --config",
    "OKTA_CLIENT_ID": "admin page sign-in uses GENERIC_* or ui_settings.oidc",
    "OKTA_CLIENT_SECRET": "admin page sign-in uses GENERIC_* or ui_settings.oidc",
    "OKTA_ISSUER": "admin page sign-in uses GENERIC_* or ui_settings.oidc",
    "MICROSOFT_CLIENT_ID": "admin page sign-in uses GENERIC_* or ui_settings.oidc",
    "GOOGLE_CLIENT_ID": "admin page sign-in uses GENERIC_* or ui_settings.oidc",
    "WORKER_CONFIG": "pass --config",
}
