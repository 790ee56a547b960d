"""Each strategy's choice (statistical with a fixed seed, or deterministic), and that every
strategy respects rpm, tpm and max_parallel_requests."""

from __future__ import annotations

import random
from collections import Counter

import anyio
import pytest

from gateway.router import NoDeploymentsAvailableError
from gateway.router.state import LocalState
from gateway.router.strategies import (
    STRATEGIES,
    LeastBusy,
    LowestCost,
    LowestLatency,
    LowestUsage,
    SimpleShuffle,
)
from tests.gateway.router.support import T0, Clock, Upstream, deployment, make_router


def test_simple_shuffle_follows_weights() -> None:
    a, b = deployment("a", weight=1), deployment("b", weight=3)
    strategy, state = SimpleShuffle(random.Random(1)), LocalState()
    picks = Counter(strategy.pick([a, b], state, T0, False).id for _ in range(4000))
    assert 0.70 < picks["b"] / 4000 < 0.80


def test_simple_shuffle_weighs_by_rpm_then_tpm() -> None:
    a, b = deployment("a", rpm=100), deployment("b", rpm=900)
    strategy, state = SimpleShuffle(random.Random(2)), LocalState()
    picks = Counter(strategy.pick([a, b], state, T0, False).id for _ in range(4000))
    assert 0.85 < picks["b"] / 4000 < 0.95
    c, d = deployment("c", tpm=1000), deployment("d", tpm=1000)
    even = Counter(strategy.pick([c, d], state, T0, False).id for _ in range(4000))
    assert 0.45 < even["c"] / 4000 < 0.55


def test_least_busy_picks_fewest_in_flight() -> None:
    a, b, c = deployment("a"), deployment("b"), deployment("c")
    state = LocalState()
    state.view("a").in_flight, state.view("b").in_flight, state.view("c").in_flight = 3, 1, 2
    assert LeastBusy(random.Random(0)).pick([a, b, c], state, T0, False) is b


@pytest.mark.anyio
async def test_least_busy_spreads_concurrent_requests() -> None:
    router = make_router([deployment(x) for x in "abc"], strategy="least-busy")
    release, all_started = anyio.Event(), anyio.Event()
    seen: list[str] = []

    async def attempt(d: object) -> str:
        seen.append(d.id)  # type: ignore[attr-defined]
        if len(seen) == 6:
            all_started.set()
        await release.wait()
        return "ok"

    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(router.run, "g", attempt)
        with anyio.fail_after(5):
            await all_started.wait()
        release.set()
    assert Counter(seen) == {"a": 2, "b": 2, "c": 2}


def test_usage_based_picks_lowest_tpm_this_minute() -> None:
    a, b = deployment("a"), deployment("b")
    state = LocalState()
    minute = int(T0 // 60)
    state.view("a").minute, state.view("a").tokens = minute, 500
    state.view("b").minute, state.view("b").tokens = minute, 200
    assert LowestUsage(random.Random(0)).pick([a, b], state, T0, False) is b
    # Last minute's usage does not count.
    state.view("b").minute = minute - 1
    state.view("b").tokens = 10_000
    assert LowestUsage(random.Random(0)).pick([a, b], state, T0, False) is b


@pytest.mark.anyio
async def test_usage_based_moves_traffic_as_tokens_accrue() -> None:
    router = make_router([deployment("a"), deployment("b")], strategy="usage-based-routing-v2")
    for _ in range(10):
        chosen = await router.run("g", Upstream())
        await router.state.record_tokens(chosen, 100, T0)
    minute = int(T0 // 60)
    assert router.state.view("a").tpm(minute) == router.state.view("b").tpm(minute) == 500


def test_latency_picks_fastest_and_uses_first_token_for_streams() -> None:
    a, b = deployment("a"), deployment("b")
    state = LocalState()
    state.view("a").latencies.extend([(T0, 0.9), (T0, 1.1)])
    state.view("b").latencies.extend([(T0, 2.0)])
    state.view("a").first_token.append((T0, 0.5))
    state.view("b").first_token.append((T0, 0.1))
    strategy = LowestLatency(random.Random(0))
    assert strategy.pick([a, b], state, T0, False) is a
    assert strategy.pick([a, b], state, T0, True) is b


def test_latency_ttl_forgets_old_samples_and_unknown_is_tried() -> None:
    a, b = deployment("a"), deployment("b")
    state = LocalState()
    state.view("a").latencies.append((T0 - 100, 0.1))  # stale: counts as unknown (0)
    state.view("b").latencies.append((T0, 0.2))
    assert LowestLatency(random.Random(0), ttl=60).pick([a, b], state, T0, False) is a


def test_latency_buffer_spreads_over_near_deployments() -> None:
    a, b, c = deployment("a"), deployment("b"), deployment("c")
    state = LocalState()
    for name, seconds in (("a", 1.0), ("b", 1.05), ("c", 3.0)):
        state.view(name).latencies.append((T0, seconds))
    strategy = LowestLatency(random.Random(3), buffer=0.1)
    picks = Counter(strategy.pick([a, b, c], state, T0, False).id for _ in range(1000))
    assert picks["c"] == 0
    assert 0.4 < picks["a"] / 1000 < 0.6


def test_cost_picks_cheapest_and_treats_unknown_costs_as_equal() -> None:
    cheap = deployment("cheap", input_cost_per_token=1e-6, output_cost_per_token=2e-6)
    dear = deployment("dear", input_cost_per_token=1e-5, output_cost_per_token=2e-5)
    unknown = deployment("unknown")
    strategy, state = LowestCost(random.Random(0)), LocalState()
    assert strategy.pick([dear, unknown, cheap], state, T0, False) is cheap
    x, y = deployment("x"), deployment("y")
    picks = Counter(strategy.pick([x, y], state, T0, False).id for _ in range(1000))
    assert 0.4 < picks["x"] / 1000 < 0.6


def test_order_tries_lower_order_first() -> None:
    primary, backup = deployment("primary", order=1), deployment("backup", order=2)
    router = make_router([backup, primary])
    calls = Upstream()
    for _ in range(5):
        anyio.run(router.run, "g", calls)
    assert set(calls.calls) == {"primary"}


# The deployment each strategy would favour is limited; traffic must go to its peer.
FAVOURITE = {
    "weight": 1000.0,
    "input_cost_per_token": 1e-9,
}


@pytest.mark.anyio
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
async def test_rpm_limit_respected(strategy: str) -> None:
    fav = deployment("fav", rpm=3, **FAVOURITE)  # type: ignore[arg-type]
    other = deployment("other", weight=1, input_cost_per_token=1.0)
    clock = Clock()
    router = make_router([fav, other], strategy=strategy, clock=clock)
    calls = Upstream()
    for _ in range(20):
        await router.run("g", calls)
    assert Counter(calls.calls)["fav"] <= 3
    assert len(calls.calls) == 20
    clock.now += 60  # a new minute
    fav_only = make_router([fav], strategy=strategy, clock=clock, state=router.state)
    assert await fav_only.run("g", Upstream()) == "fav"


@pytest.mark.anyio
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
async def test_tpm_limit_respected(strategy: str) -> None:
    fav = deployment("fav", tpm=100, **FAVOURITE)  # type: ignore[arg-type]
    other = deployment("other", weight=1, input_cost_per_token=1.0)
    router = make_router([fav, other], strategy=strategy)
    await router.state.record_tokens("fav", 100, T0)
    calls = Upstream()
    for _ in range(10):
        await router.run("g", calls)
    assert calls.calls == ["other"] * 10


@pytest.mark.anyio
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
async def test_max_parallel_requests_respected(strategy: str) -> None:
    fav = deployment("fav", max_parallel_requests=2, **FAVOURITE)  # type: ignore[arg-type]
    other = deployment("other", weight=1, input_cost_per_token=1.0)
    router = make_router([fav, other], strategy=strategy)
    release, all_started = anyio.Event(), anyio.Event()
    busy: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    started: list[str] = []

    async def attempt(d: object) -> str:
        name: str = d.id  # type: ignore[attr-defined]
        busy[name] += 1
        peak[name] = max(peak[name], busy[name])
        started.append(name)
        if len(started) == 8:
            all_started.set()
        await release.wait()
        busy[name] -= 1
        return name

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(router.run, "g", attempt)
        with anyio.fail_after(5):
            await all_started.wait()
        release.set()
    assert peak["fav"] <= 2
    assert router.state.view("fav").in_flight == 0


@pytest.mark.anyio
async def test_all_deployments_at_their_limits_is_a_429() -> None:
    router = make_router([deployment("a", rpm=1), deployment("b", rpm=1)])
    await router.run("g", Upstream())
    await router.run("g", Upstream())
    with pytest.raises(NoDeploymentsAvailableError) as caught:
        await router.run("g", Upstream())
    assert caught.value.status_code == 429
    assert "No deployments available" in caught.value.message
    assert caught.value.headers["retry-after"] == "30"
