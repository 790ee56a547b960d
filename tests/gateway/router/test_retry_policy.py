"""`retry_policy` and `model_group_retry_policy` (LiteLLM's semantics), in process with
scripted attempts: the count is picked by the first failure's class and overrides the
ordinary rules both ways."""

from __future__ import annotations

import uuid
from pathlib import Path

import openai
import pytest

from gateway.errors import (
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    GatewayError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UpstreamServerError,
)
from gateway.router import RunOptions
from gateway.router.retry_policy import RetryPolicies, RetryPolicy
from tests.gateway.router.support import Upstream, deployment, make_router
from tests.gateway.router.test_gateway_processes import (
    HI,
    MASTER,
    entry,
    sdk,
    start_gateway,
    upstream_calls,
)
from tests.testing.fake_upstream.harness import running_fake_upstream


@pytest.mark.parametrize(
    ("error", "field"),
    [
        (BadRequestError, "BadRequestErrorRetries"),
        (ContextWindowExceededError, "BadRequestErrorRetries"),
        (ContentPolicyViolationError, "ContentPolicyViolationErrorRetries"),
        (AuthenticationError, "AuthenticationErrorRetries"),
        (RequestTimeoutError, "TimeoutErrorRetries"),
        (RateLimitError, "RateLimitErrorRetries"),
        (UpstreamServerError, "InternalServerErrorRetries"),
        (ServiceUnavailableError, "ServiceUnavailableErrorRetries"),
        (NotFoundError, "NotFoundErrorRetries"),
    ],
)
def test_each_error_class_reads_its_own_field(error: type[GatewayError], field: str) -> None:
    assert RetryPolicy.from_mapping({field: 4}).retries_for(error("x")) == 4
    assert RetryPolicy.from_mapping({field: 4, "DefaultRetries": 1}).retries_for(error("x")) == 4


def test_a_content_policy_error_falls_back_to_the_bad_request_count() -> None:
    policy = RetryPolicy(BadRequestErrorRetries=3)
    assert policy.retries_for(ContentPolicyViolationError("x")) == 3


@pytest.mark.parametrize("error", [BadGatewayError, ServiceUnavailableError])
def test_502_and_503_are_not_internal_server_errors(error: type[GatewayError]) -> None:
    # LiteLLM's BadGatewayError and ServiceUnavailableError do not subclass InternalServerError
    policy = RetryPolicy(InternalServerErrorRetries=3, DefaultRetries=1)
    assert policy.retries_for(error("x")) == 1
    assert RetryPolicy(InternalServerErrorRetries=3).retries_for(error("x")) is None


def test_classes_without_a_field_take_default_retries() -> None:
    assert RetryPolicy(DefaultRetries=2).retries_for(PermissionDeniedError("x")) == 2
    assert RetryPolicy().retries_for(PermissionDeniedError("x")) is None


def test_a_group_policy_replaces_the_general_one() -> None:
    policies = RetryPolicies(
        general=RetryPolicy(RateLimitErrorRetries=5, BadRequestErrorRetries=1),
        by_group={"g": RetryPolicy(RateLimitErrorRetries=0)},
    )
    assert policies.retries_for("g", RateLimitError("x")) == 0
    assert policies.retries_for("g", BadRequestError("x")) is None  # not merged
    assert policies.retries_for("other", BadRequestError("x")) == 1


@pytest.mark.anyio
async def test_a_policy_retries_a_bad_request_the_router_would_not() -> None:
    router = make_router([deployment("a")], num_retries=0)
    router.retry_policies = RetryPolicies(general=RetryPolicy(BadRequestErrorRetries=2))
    upstream = Upstream(failures={"a": [BadRequestError("no"), BadRequestError("no")]})
    assert await router.run("g", upstream) == "a"
    assert upstream.calls == ["a", "a", "a"]


@pytest.mark.anyio
async def test_a_policy_of_zero_stops_retries_the_router_would_make() -> None:
    router = make_router([deployment("a"), deployment("b")], num_retries=3)
    router.retry_policies = RetryPolicies(general=RetryPolicy(InternalServerErrorRetries=0))
    upstream = Upstream(always={"a": lambda: UpstreamServerError("x")}, failures={})
    upstream.always["b"] = upstream.always["a"]
    with pytest.raises(UpstreamServerError):
        await router.run("g", upstream)
    assert len(upstream.calls) == 1


@pytest.mark.anyio
async def test_the_first_failure_sets_the_count_for_the_group() -> None:
    router = make_router([deployment("a")], num_retries=0)
    router.retry_policies = RetryPolicies(
        general=RetryPolicy(TimeoutErrorRetries=3, BadRequestErrorRetries=0)
    )
    # a timeout first: three retries, whatever fails after it
    failures: list[GatewayError] = [
        RequestTimeoutError("t"),
        BadRequestError("b"),
        BadRequestError("b"),
        BadRequestError("b"),
    ]
    upstream = Upstream(failures={"a": failures})
    with pytest.raises(BadRequestError):
        await router.run("g", upstream)
    assert len(upstream.calls) == 4


@pytest.mark.anyio
async def test_num_retries_zero_in_the_request_turns_the_policy_off() -> None:
    router = make_router([deployment("a")], num_retries=0)
    router.retry_policies = RetryPolicies(general=RetryPolicy(BadRequestErrorRetries=2))
    upstream = Upstream(failures={"a": [BadRequestError("no")]})
    with pytest.raises(BadRequestError):
        await router.run("g", upstream, RunOptions(num_retries=0))
    assert upstream.calls == ["a"]


@pytest.mark.anyio
async def test_without_a_count_for_the_class_the_ordinary_rules_apply() -> None:
    router = make_router([deployment("a")], num_retries=2)
    router.retry_policies = RetryPolicies(general=RetryPolicy(RateLimitErrorRetries=4))
    upstream = Upstream(failures={"a": [BadRequestError("no")]})
    with pytest.raises(BadRequestError):
        await router.run("g", upstream)
    assert upstream.calls == ["a"]  # a 400 is not retried
    upstream = Upstream(failures={"a": [UpstreamServerError("x")] * 3})
    with pytest.raises(UpstreamServerError):
        await router.run("g", upstream)
    assert len(upstream.calls) == 3  # num_retries: 2


def test_retry_policies_through_a_gateway_process(service_log_dir: Path) -> None:
    """Counted at the fake upstream: a 400 retried twice though the router never retries
    a 400, and a 429 not retried in a group whose own policy says 0."""
    tag = uuid.uuid4().hex[:8]
    bad, limited = f"error-400+{tag}", f"error-429+{tag}"
    with running_fake_upstream(service_log_dir) as upstream:
        config = {
            "model_list": [entry("bad", bad, upstream), entry("limited", limited, upstream)],
            "router_settings": {
                "num_retries": 2,
                "retry_policy": {"BadRequestErrorRetries": 2, "RateLimitErrorRetries": 3},
                "model_group_retry_policy": {"limited": {"RateLimitErrorRetries": 0}},
            },
            "general_settings": {"master_key": MASTER},
        }
        gateway = start_gateway("gateway-retry-policy", config, service_log_dir)
        try:
            client = sdk(gateway)
            with pytest.raises(openai.BadRequestError) as refused:
                client.chat.completions.create(model="bad", messages=HI)
            assert refused.value.response.headers["x-litellm-attempted-retries"] == "2"
            assert upstream_calls(upstream, bad) == 3
            with pytest.raises(openai.RateLimitError):
                client.chat.completions.create(model="limited", messages=HI)
            assert upstream_calls(upstream, limited) == 1
        finally:
            gateway.stop()
