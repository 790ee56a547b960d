"""The metric families, with LiteLLM's names and label sets, on a registry we own.

Built once per app (never on prometheus_client's global registry). In multiprocess mode
(`PROMETHEUS_MULTIPROC_DIR` set before prometheus_client is imported) the values live in
that directory's files and `/metrics` aggregates them across workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.registry import Collector

# LiteLLM's latency buckets (seconds).
LATENCY_BUCKETS = (
    0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5,
    5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 15.0, 20.0, 25.0, 30.0, 60.0,
    120.0, 180.0, 240.0, 300.0, float("inf"),
)  # fmt: skip

KEY = ("hashed_api_key", "api_key_alias")
TEAM = ("team", "team_alias")
PROXY_LABELS = ("end_user", *KEY, "requested_model", *TEAM, "user")
TOKEN_LABELS = ("end_user", *KEY, "model", *TEAM, "user", "requested_model")
LATENCY_LABELS = (*PROXY_LABELS, "model")
LLM_LATENCY_LABELS = ("model", *KEY, *TEAM, "requested_model", "end_user", "user")
TTFT_LABELS = ("model", *KEY, *TEAM)
SPEND_LABELS = ("end_user", *KEY, "model", *TEAM, "user")
DEPLOYMENT = ("litellm_model_name", "model_id", "api_base", "api_provider")
DEPLOYMENT_CALL_LABELS = ("requested_model", *DEPLOYMENT, *KEY, *TEAM)
# LiteLLM's labels for the provider's own rate-limit headroom (x-ratelimit-remaining-*).
PROVIDER_LIMIT_LABELS = (
    "model_group", "api_provider", "api_base", "litellm_model_name", *KEY, "model_id",
)  # fmt: skip


@dataclass
class GatewayMetrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    # Read at scrape time from live state (not aggregated across workers).
    live: list[Collector] = field(default_factory=list)

    def add_live(self, collector: Collector) -> None:
        self.live.append(collector)
        self.registry.register(collector)

    def __post_init__(self) -> None:
        r = self.registry
        self.total_requests = Counter(
            "litellm_proxy_total_requests_metric",
            "Total number of requests made to the proxy server",
            [*PROXY_LABELS, "status_code"],
            registry=r,
        )
        self.failed_requests = Counter(
            "litellm_proxy_failed_requests_metric",
            "Requests whose client did not get a success response",
            [*PROXY_LABELS, "exception_status", "exception_class"],
            registry=r,
        )
        self.in_flight = Gauge(
            "litellm_in_flight_requests",
            "Inference requests being served now",
            ["requested_model"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.total_latency = Histogram(
            "litellm_request_total_latency_metric",
            "Total latency (seconds) of a request to the proxy",
            LATENCY_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.llm_api_latency = Histogram(
            "litellm_llm_api_latency_metric",
            "Latency (seconds) of the LLM API call alone",
            LLM_LATENCY_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.time_to_first_token = Histogram(
            "litellm_llm_api_time_to_first_token_metric",
            "Time to first token of a streamed LLM API call (seconds)",
            TTFT_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.overhead_latency = Histogram(
            "litellm_overhead_latency_metric",
            "Latency (seconds) added by the proxy itself",
            LATENCY_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.spend = Counter("litellm_spend_metric", "Total spend (USD)", SPEND_LABELS, registry=r)
        self.input_tokens = Counter(
            "litellm_input_tokens_metric", "Input tokens", TOKEN_LABELS, registry=r
        )
        self.output_tokens = Counter(
            "litellm_output_tokens_metric", "Output tokens", TOKEN_LABELS, registry=r
        )
        self.total_tokens = Counter(
            "litellm_total_tokens_metric", "Input plus output tokens", TOKEN_LABELS, registry=r
        )
        self.deployment_success = Counter(
            "litellm_deployment_success_responses",
            "Successful LLM API calls per deployment",
            DEPLOYMENT_CALL_LABELS,
            registry=r,
        )
        self.deployment_failure = Counter(
            "litellm_deployment_failure_responses",
            "Failed LLM API calls per deployment",
            [*DEPLOYMENT_CALL_LABELS, "exception_status", "exception_class"],
            registry=r,
        )
        self.deployment_total = Counter(
            "litellm_deployment_total_requests",
            "LLM API calls per deployment, success and failure",
            DEPLOYMENT_CALL_LABELS,
            registry=r,
        )
        self.deployment_cooled_down = Counter(
            "litellm_deployment_cooled_down",
            "Times a deployment was cooled down by the router",
            [*DEPLOYMENT, "exception_status"],
            registry=r,
        )
        self.remaining_key_budget = Gauge(
            "litellm_remaining_api_key_budget_metric",
            "Remaining budget for an API key (USD)",
            KEY,
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.key_max_budget = Gauge(
            "litellm_api_key_max_budget_metric",
            "Maximum budget for an API key (USD)",
            KEY,
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.cache_hits = Counter(
            "litellm_cache_hits_metric", "Requests answered from the response cache",
            ["model", *KEY, *TEAM], registry=r,
        )  # fmt: skip
        # -- appended (issue 21): more of LiteLLM's names, with its labels --------------
        self.cache_misses = Counter(
            "litellm_cache_misses_metric", "Requests that missed the response cache",
            CACHE_LABELS, registry=r,
        )  # fmt: skip
        self.cached_tokens = Counter(
            "litellm_cached_tokens_metric", "Tokens served from the response cache",
            CACHE_LABELS, registry=r,
        )  # fmt: skip
        self.successful_fallbacks = Counter(
            "litellm_deployment_successful_fallbacks",
            "Fallbacks from the requested model group that answered",
            FALLBACK_LABELS, registry=r,
        )  # fmt: skip
        self.failed_fallbacks = Counter(
            "litellm_deployment_failed_fallbacks",
            "Fallbacks from the requested model group that failed too",
            FALLBACK_LABELS, registry=r,
        )  # fmt: skip
        self.latency_per_output_token = Histogram(
            "litellm_deployment_latency_per_output_token",
            "LLM API latency per output token (seconds)",
            LATENCY_PER_TOKEN_LABELS, buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.request_queue_time = Histogram(
            "litellm_request_queue_time_seconds",
            "Request arrival to the start of pre-call processing (auth, body read), seconds",
            LATENCY_LABELS, buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.remaining_key_requests_for_model = Gauge(
            "litellm_remaining_api_key_requests_for_model",
            "Requests an API key may still make this minute (its rpm limit)",
            KEY_MODEL_LABELS, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.remaining_key_tokens_for_model = Gauge(
            "litellm_remaining_api_key_tokens_for_model",
            "Tokens an API key may still use this minute (its tpm limit)",
            KEY_MODEL_LABELS, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.remaining_requests = Gauge(
            "litellm_remaining_requests_metric",
            "Requests the provider still allows this deployment (its x-ratelimit-remaining-requests)",
            PROVIDER_LIMIT_LABELS, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.remaining_tokens = Gauge(
            "litellm_remaining_tokens_metric",
            "Tokens the provider still allows this deployment (its x-ratelimit-remaining-tokens)",
            PROVIDER_LIMIT_LABELS, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.remaining_team_budget = Gauge(
            "litellm_remaining_team_budget_metric", "Remaining budget for a team (USD)",
            TEAM, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.team_max_budget = Gauge(
            "litellm_team_max_budget_metric", "Maximum budget for a team (USD)",
            TEAM, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.team_budget_remaining_hours = Gauge(
            "litellm_team_budget_remaining_hours_metric", "Hours before the team budget resets",
            TEAM, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.remaining_user_budget = Gauge(
            "litellm_remaining_user_budget_metric", "Remaining budget for an internal user (USD)",
            USER, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.user_max_budget = Gauge(
            "litellm_user_max_budget_metric", "Maximum budget for an internal user (USD)",
            USER, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.user_budget_remaining_hours = Gauge(
            "litellm_user_budget_remaining_hours_metric",
            "Hours before the internal user budget resets",
            USER, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip


# Label sets of the families appended above (LiteLLM's, from its Prometheus docs).
CACHE_LABELS = ("model", *KEY, *TEAM)
FALLBACK_LABELS = (
    "requested_model", "fallback_model", *KEY, *TEAM, "exception_status", "exception_class",
)  # fmt: skip
LATENCY_PER_TOKEN_LABELS = (*DEPLOYMENT, *KEY, *TEAM)
KEY_MODEL_LABELS = (*KEY, "model", "model_id")
USER = ("user",)
