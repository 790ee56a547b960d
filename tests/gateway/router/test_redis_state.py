"""Router state shared through the real Redis on 127.0.0.1:6379: two routers (as two gateway
instances would) enforce one rpm limit and share cooldowns; losing Redis degrades to
in-process state without failing requests, and its return is noticed."""

from __future__ import annotations

import contextlib
import gc
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import anyio
import anyio.abc
import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from gateway.errors import RateLimitError
from gateway.router import NoDeploymentsAvailableError, Router
from gateway.router.redis_io import redis_client
from gateway.router.redis_state import RedisState
from tests.gateway.router.support import T0, Clock, Upstream, deployment, make_router
from tests.support.components import REDIS_URL, require_component, tcp_port_open

pytestmark = pytest.mark.anyio

REDIS = urlparse(REDIS_URL)


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    require_component(
        tcp_port_open(REDIS.hostname or "127.0.0.1", REDIS.port or 6379), f"Redis at {REDIS_URL}"
    )
    prefix = f"toolrelay-test:{uuid.uuid4().hex}"
    yield prefix
    cleaner = Redis.from_url(REDIS_URL)
    keys = [key async for key in cleaner.scan_iter(match=f"{prefix}:*")]
    if keys:
        await cleaner.delete(*keys)
    await cleaner.aclose()


def shared_router(namespace: str, deployments: list, clock: Clock, url: str = REDIS_URL) -> Router:  # type: ignore[type-arg]
    state = RedisState(redis_client(url), deployments, namespace=namespace)
    return make_router(deployments, state=state, clock=clock)


async def test_two_instances_enforce_one_rpm_limit(namespace: str) -> None:
    limited = [deployment("only", rpm=3)]
    clock = Clock()
    a, b = shared_router(namespace, limited, clock), shared_router(namespace, limited, clock)
    outcomes: list[str] = []
    for router in (a, b, a, b, a, b):
        try:
            outcomes.append(await router.run("g", Upstream()))
        except NoDeploymentsAvailableError:
            outcomes.append("429")
    assert outcomes == ["only", "only", "only", "429", "429", "429"]
    clock.now += 60  # the next minute has a fresh budget on both
    assert await b.run("g", Upstream()) == "only"
    await a.aclose()
    await b.aclose()


async def test_cooldown_set_by_one_instance_is_honoured_by_another(namespace: str) -> None:
    group = [deployment("bad", order=1), deployment("good", order=2)]
    clock = Clock()
    a, b = shared_router(namespace, group, clock), shared_router(namespace, group, clock)
    first = Upstream(always={"bad": lambda: RateLimitError("429")})
    assert await a.run("g", first) == "good"
    assert first.calls == ["bad", "good"]
    second = Upstream(always={"bad": lambda: RateLimitError("429")})
    for _ in range(3):
        assert await b.run("g", second) == "good"
    assert second.calls == ["good"] * 3  # b never called the cooled deployment
    await a.aclose()
    await b.aclose()


async def test_mirror_refresh_shares_usage_and_latency(namespace: str) -> None:
    group = [deployment("x"), deployment("y")]
    clock = Clock()
    a, b = shared_router(namespace, group, clock), shared_router(namespace, group, clock)
    for _ in range(4):
        await a.run("g", Upstream())
    await a.state.record_tokens("x", 250, T0)
    assert isinstance(a.state, RedisState) and isinstance(b.state, RedisState)
    await a.state.flush()
    await b.state.refresh(now=T0)
    minute = int(T0 // 60)
    seen = {d: b.state.view(d) for d in ("x", "y")}
    assert sum(s.rpm(minute) for s in seen.values()) == 4
    assert seen["x"].tpm(minute) == 250
    assert sum(len(s.latencies) for s in seen.values()) == 4
    assert all(s.in_flight == 0 for s in seen.values())
    await a.aclose()
    await b.aclose()


class Proxy:
    """A TCP proxy in front of Redis that the test can cut and restore."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.cut = False
        self.streams: list[anyio.abc.SocketStream] = []

    async def serve(self, listener: anyio.abc.SocketListener) -> None:
        try:
            async with listener, anyio.create_task_group() as tg:
                await listener.serve(self._handle, task_group=tg)
        finally:
            with anyio.CancelScope(shield=True):
                await self.cut_all()

    async def _handle(self, client: anyio.abc.SocketStream) -> None:
        if self.cut:
            await client.aclose()
            return
        self.streams.append(client)
        upstream = await anyio.connect_tcp(*self.target)
        self.streams.append(upstream)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._pipe, client, upstream)
            tg.start_soon(self._pipe, upstream, client)

    @staticmethod
    async def _pipe(src: anyio.abc.SocketStream, dst: anyio.abc.SocketStream) -> None:
        with contextlib.suppress(
            anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError
        ):
            async for data in src:
                await dst.send(data)
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await dst.aclose()

    async def cut_all(self) -> None:
        self.cut = True
        for stream in self.streams:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await stream.aclose()
        self.streams.clear()


# Cutting Redis connections mid-use leaves sockets that redis-py closes only when they are
# collected; collect them here, inside this test's warning filter.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_losing_redis_degrades_to_local_state_and_recovers(namespace: str) -> None:
    proxy = Proxy(REDIS.hostname or "127.0.0.1", REDIS.port or 6379)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    proxy.port = listener.extra(anyio.abc.SocketAttribute.local_port)
    db = REDIS.path or "/0"
    url = f"redis://127.0.0.1:{proxy.port}{db}"
    async with anyio.create_task_group() as tg:
        tg.start_soon(proxy.serve, listener)
        group = [deployment("only", rpm=100)]
        router = shared_router(namespace, group, Clock(), url)
        state = router.state
        assert isinstance(state, RedisState)
        state.recheck_seconds = 0.05
        assert await router.run("g", Upstream()) == "only"
        # A request admitted through Redis that ends during the outage...
        started, finish = anyio.Event(), anyio.Event()

        async def held(d: object) -> str:
            started.set()
            await finish.wait()
            return "held"

        tg.start_soon(router.run, "g", held)
        with anyio.fail_after(5):
            await started.wait()
        # Background readers may see the cut before the requests do: capture from the cut.
        with capture_logs() as logs:
            await proxy.cut_all()
            finish.set()
            for _ in range(5):  # every request still answers
                assert await router.run("g", Upstream()) == "only"
        warnings = [e for e in logs if e["log_level"] == "warning"]
        assert len(warnings) == 1 and "redis unreachable" in warnings[0]["event"]
        assert not state.healthy
        proxy.cut = False
        with anyio.fail_after(10):
            await state.connected.wait()
        assert await router.run("g", Upstream()) == "only"
        # ...is not left counted as in flight once Redis is back.
        await state.flush()
        direct = Redis.from_url(REDIS_URL, decode_responses=True)
        shares = await direct.hvals(f"{namespace}:only:inflight")
        await direct.aclose()
        assert sum(int(v) for v in shares) == 0
        await router.aclose()
        tg.cancel_scope.cancel()
    gc.collect()
