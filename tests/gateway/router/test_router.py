"""Retries, cooldowns, fallbacks, timeouts and response headers, in process with scripted
attempts (no network), a controllable clock and recorded backoff sleeps."""

from __future__ import annotations

import anyio
import pytest

from gateway.context import RequestContext, bind_context, unbind_context
from gateway.deployments import Deployment
from gateway.errors import (
    AuthenticationError,
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
from gateway.router.cooldown import CooldownPolicy
from gateway.router.fallbacks import Fallbacks
from tests.gateway.router.support import Clock, Sleeps, Upstream, deployment, make_router


def rate_limited(retry_after: str | None = None) -> RateLimitError:
    return RateLimitError("slow down", headers={"retry-after": retry_after} if retry_after else {})


@pytest.fixture
def ctx() -> RequestContext:
    context = RequestContext(request_id="test")
    token = bind_context(context)
    yield context  # type: ignore[misc]
    unbind_context(token)


@pytest.mark.anyio
async def test_429_cools_the_deployment_and_moves_to_its_peer(ctx: RequestContext) -> None:
    bad, good = deployment("bad", order=1), deployment("good", order=2)
    clock, sleeps = Clock(), Sleeps()
    router = make_router([bad, good], clock=clock, sleeps=sleeps)
    upstream = Upstream(always={"bad": rate_limited}, failures={})
    assert await router.run("g", upstream) == "good"
    assert upstream.calls == ["bad", "good"]
    assert sleeps.calls == []  # a fresh peer took it: no backoff
    assert ctx.response_headers["x-litellm-model-id"] == "good"
    assert ctx.response_headers["x-litellm-model-group"] == "g"
    assert ctx.response_headers["x-litellm-attempted-retries"] == "1"
    assert ctx.response_headers["x-litellm-attempted-fallbacks"] == "0"
    # While cooling, `bad` is skipped even though its order is lower.
    upstream.calls.clear()
    for _ in range(3):
        await router.run("g", upstream)
    assert upstream.calls == ["good"] * 3
    # The default cooldown is 5 s; after it, `bad` is tried again.
    clock.now += 5.1
    upstream.calls.clear()
    await router.run("g", upstream)
    assert upstream.calls[0] == "bad"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error", [AuthenticationError, PermissionDeniedError, NotFoundError, BadRequestError]
)
async def test_client_and_auth_errors_are_not_retried(error: type[BadRequestError]) -> None:
    router = make_router([deployment("a"), deployment("b")])
    upstream = Upstream(always={"a": lambda: error("no"), "b": lambda: error("no")})
    with pytest.raises(error):
        await router.run("g", upstream)
    assert len(upstream.calls) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("error", [AuthenticationError, PermissionDeniedError, NotFoundError])
async def test_auth_errors_cool_down_at_once(error: type[AuthenticationError]) -> None:
    router = make_router([deployment("a", order=1), deployment("b", order=2)])
    with pytest.raises(error):
        await router.run("g", Upstream(always={"a": lambda: error("no")}))
    upstream = Upstream()
    assert await router.run("g", upstream) == "b"  # `a` comes first by order, but is cooling
    assert upstream.calls == ["b"]


@pytest.mark.anyio
@pytest.mark.parametrize("error", [AuthenticationError, RateLimitError])
async def test_a_groups_only_deployment_is_never_cooled(error: type[GatewayError]) -> None:
    router = make_router([deployment("a")], num_retries=0)
    with pytest.raises(error):
        await router.run("g", Upstream(always={"a": lambda: error("no")}))
    assert await router.run("g", Upstream()) == "a"  # the next request reaches it again


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error", [UpstreamServerError, ServiceUnavailableError, RequestTimeoutError]
)
async def test_server_errors_retry_immediately(error: type[UpstreamServerError]) -> None:
    sleeps = Sleeps()
    router = make_router([deployment("a")], sleeps=sleeps, num_retries=2)
    upstream = Upstream(failures={"a": [error("x"), error("x")]})
    assert await router.run("g", upstream) == "a"
    assert upstream.calls == ["a", "a", "a"]
    assert sleeps.calls == []


@pytest.mark.anyio
async def test_num_retries_from_request_overrides_router(ctx: RequestContext) -> None:
    router = make_router([deployment("a")], num_retries=5)
    upstream = Upstream(always={"a": lambda: UpstreamServerError("down")})
    with pytest.raises(UpstreamServerError):
        await router.run("g", upstream, RunOptions(num_retries=1))
    assert upstream.calls == ["a", "a"]
    assert ctx.response_headers["x-litellm-attempted-retries"] == "1"


@pytest.mark.anyio
async def test_rate_limit_backoff_honours_retry_after_capped() -> None:
    sleeps = Sleeps()
    router = make_router(
        [deployment("a")], sleeps=sleeps, cooldown=CooldownPolicy(cooldown_seconds=0)
    )
    upstream = Upstream(failures={"a": [rate_limited("3"), rate_limited("120")]})
    assert await router.run("g", upstream) == "a"
    assert sleeps.calls[0] >= 3  # at least what the upstream asked for
    assert sleeps.calls[1] == router.backoff.max_delay  # capped
    no_header = Upstream(failures={"a": [rate_limited(), rate_limited()]})
    sleeps.calls.clear()
    await router.run("g", no_header)
    assert 0 < sleeps.calls[0] < sleeps.calls[1]  # exponential


@pytest.mark.anyio
async def test_failures_cool_after_allowed_fails_per_minute() -> None:
    clock = Clock()
    router = make_router(
        [deployment("a", order=1), deployment("b", order=2)],
        clock=clock,
        num_retries=0,
        cooldown=CooldownPolicy(allowed_fails=2, cooldown_seconds=30),
    )
    flaky = Upstream(always={"a": lambda: RequestTimeoutError("slow")})
    for _ in range(3):  # fails 1 and 2 are allowed; the 3rd exceeds allowed_fails
        with pytest.raises(RequestTimeoutError):
            await router.run("g", flaky)
    assert await router.run("g", flaky) == "b"  # `a` comes first by order, but is cooling
    assert flaky.calls == ["a", "a", "a", "b"]
    clock.now += 31
    assert await router.run("g", Upstream()) == "a"


@pytest.mark.anyio
async def test_bad_requests_do_not_count_towards_cooldown() -> None:
    router = make_router([deployment("a")], cooldown=CooldownPolicy(allowed_fails=0))
    for _ in range(3):
        with pytest.raises(BadRequestError):
            await router.run("g", Upstream(always={"a": lambda: BadRequestError("bad")}))
    assert await router.run("g", Upstream()) == "a"


@pytest.mark.anyio
async def test_group_down_falls_back_in_order(ctx: RequestContext) -> None:
    router = make_router(
        [deployment("p", "primary"), deployment("f1", "first"), deployment("f2", "second")],
        fallbacks=Fallbacks(generic={"primary": ("missing", "first", "second")}),
        num_retries=1,
    )
    down = lambda: ServiceUnavailableError("down")  # noqa: E731
    upstream = Upstream(always={"p": down, "f1": down})
    assert await router.run("primary", upstream) == "f2"
    assert upstream.calls == ["p", "p", "f1", "f1", "f2"]
    assert ctx.response_headers["x-litellm-model-group"] == "second"
    assert ctx.response_headers["x-litellm-model-id"] == "f2"
    assert ctx.response_headers["x-litellm-attempted-fallbacks"] == "2"
    assert ctx.response_headers["x-litellm-attempted-retries"] == "2"


@pytest.mark.anyio
async def test_all_cooling_fails_fast_and_fallback_takes_over() -> None:
    router = make_router(
        [deployment("p", "primary"), deployment("b", "backup")],
        fallbacks=Fallbacks(generic={"*": ("backup",)}),
    )
    upstream = Upstream(always={"p": rate_limited})
    assert await router.run("primary", upstream) == "b"
    upstream.calls.clear()
    assert await router.run("primary", upstream) == "b"
    assert upstream.calls == ["b"]  # `p` is cooling: no call to it at all


@pytest.mark.anyio
async def test_context_window_error_uses_context_window_fallbacks() -> None:
    router = make_router(
        [deployment("s", "small"), deployment("l", "large"), deployment("o", "other")],
        fallbacks=Fallbacks(generic={"small": ("other",)}, context_window={"small": ("large",)}),
    )
    upstream = Upstream(always={"s": lambda: ContextWindowExceededError("too long")})
    assert await router.run("small", upstream) == "l"
    assert upstream.calls == ["s", "l"]  # not retried: the same prompt would not fit


@pytest.mark.anyio
async def test_content_policy_error_uses_content_policy_fallbacks() -> None:
    router = make_router(
        [deployment("s", "strict"), deployment("l", "lenient")],
        fallbacks=Fallbacks(content_policy={"strict": ("lenient",)}),
    )
    upstream = Upstream(always={"s": lambda: ContentPolicyViolationError("no")})
    assert await router.run("strict", upstream) == "l"


@pytest.mark.anyio
async def test_plain_bad_request_does_not_fall_back() -> None:
    router = make_router(
        [deployment("p", "primary"), deployment("b", "backup")],
        fallbacks=Fallbacks(generic={"primary": ("backup",)}),
    )
    with pytest.raises(BadRequestError):
        await router.run("primary", Upstream(always={"p": lambda: BadRequestError("bad")}))


@pytest.mark.anyio
async def test_request_body_fallbacks_replace_configured_ones() -> None:
    router = make_router(
        [deployment("p", "primary"), deployment("b", "backup"), deployment("c", "chosen")],
        fallbacks=Fallbacks(generic={"primary": ("backup",)}),
    )
    options = RunOptions.from_body({"fallbacks": ["chosen"]}, stream=False)
    upstream = Upstream(always={"p": lambda: UpstreamServerError("x")})
    assert await router.run("primary", upstream, options) == "c"


@pytest.mark.anyio
async def test_all_fallbacks_failing_raises_the_original_error() -> None:
    router = make_router(
        [deployment("p", "primary"), deployment("b", "backup")],
        fallbacks=Fallbacks(generic={"primary": ("backup",)}),
        num_retries=0,
    )
    upstream = Upstream(
        always={"p": lambda: rate_limited("1"), "b": lambda: UpstreamServerError("x")}
    )
    with pytest.raises(RateLimitError):
        await router.run("primary", upstream)


@pytest.mark.anyio
async def test_request_timeout_applies_per_attempt_and_retries() -> None:
    router = make_router([deployment("a")], num_retries=1)
    attempts: list[str] = []

    async def hang_then_answer(d: Deployment) -> str:
        attempts.append(d.id)
        if len(attempts) == 1:
            await anyio.sleep_forever()
        return "late"

    result = await router.run("g", hang_then_answer, RunOptions(timeout=0.05))
    assert result == "late"
    assert attempts == ["a", "a"]
    assert router.state.view("a").in_flight == 0


@pytest.mark.anyio
async def test_deployment_timeout_applies_when_request_sets_none() -> None:
    router = make_router([deployment("a", timeout=0.05)], num_retries=0)

    async def hang(d: Deployment) -> str:
        await anyio.sleep_forever()
        raise AssertionError

    with pytest.raises(RequestTimeoutError) as caught:
        await router.run("g", hang)
    assert "timed out after 0.05s" in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        {"num_retries": -1},
        {"num_retries": "2"},
        {"timeout": 0},
        {"fallbacks": "gpt-4o"},
        {"fallbacks": [{"a": 3}]},
        {"context_window_fallbacks": {"a": ["b"]}},
    ],
)
def test_bad_routing_options_in_body_are_400(body: dict[str, object]) -> None:
    with pytest.raises(BadRequestError):
        RunOptions.from_body(body, stream=False)


def test_body_fallbacks_in_litellm_mapping_shape() -> None:
    options = RunOptions.from_body(
        {"fallbacks": [{"zephyr-beta": ["gpt-3.5-turbo"]}], "num_retries": 2, "timeout": 10},
        stream=True,
    )
    assert options.fallbacks == {"zephyr-beta": ("gpt-3.5-turbo",)}
    assert (options.num_retries, options.timeout, options.stream) == (2, 10.0, True)


@pytest.mark.anyio
async def test_cancelled_attempt_releases_its_slot() -> None:
    router = make_router([deployment("a", max_parallel_requests=1)])
    started = anyio.Event()

    async def hang(d: Deployment) -> str:
        started.set()
        await anyio.sleep_forever()
        raise AssertionError

    async with anyio.create_task_group() as tg:
        tg.start_soon(router.run, "g", hang)
        with anyio.fail_after(5):
            await started.wait()
        assert router.state.view("a").in_flight == 1
        tg.cancel_scope.cancel()
    assert router.state.view("a").in_flight == 0
    assert await router.run("g", Upstream()) == "a"
