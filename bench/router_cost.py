"""What the router costs per request, in microseconds: `Router.run` around an attempt that
returns at once, minus the same attempt called directly.

    uv run python bench/router_cost.py [--requests 20000] [--redis redis://127.0.0.1:6379/0]

Groups of 1 and 50 deployments, every strategy, with in-process state and with Redis state
(one round trip per request, so its wall time is mostly Redis' latency on loopback; the CPU
column is what the gateway process spends). Without a reachable Redis those rows are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.context import RequestContext, bind_context, unbind_context
from gateway.deployments import Deployment
from gateway.router import ModelGroups, Router
from gateway.router.redis_io import redis_client
from gateway.router.redis_state import RedisState
from gateway.router.state import LocalState, RouterState
from gateway.router.strategies import STRATEGIES, strategy_named


@dataclass
class Result:
    wall_us: float
    cpu_us: float


def deployments(count: int) -> list[Deployment]:
    return [
        Deployment(
            id=f"d{i}",
            model_name="g",
            provider="openai",
            model=f"m{i}",
            rpm=10_000_000,
            tpm=10_000_000_000,
            weight=1 + i % 3,
            input_cost_per_token=1e-6 * (1 + i % 5),
            output_cost_per_token=2e-6,
        )
        for i in range(count)
    ]


async def answer(_d: Deployment) -> str:
    return "ok"


async def timed(call: Callable[[], Awaitable[object]], requests: int) -> Result:
    for _ in range(min(1000, requests)):  # warm up caches, scripts, connections
        await call()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        await call()
    return Result(
        (time.perf_counter() - wall) / requests * 1e6,
        (time.process_time() - cpu) / requests * 1e6,
    )


async def measure(strategy: str, size: int, state: RouterState, requests: int) -> Result:
    rng = random.Random(1)
    group = deployments(size)
    router = Router(
        groups=ModelGroups.from_deployments(group),
        strategy=strategy_named(strategy, rng, {}),
        state=state,
        rng=rng,
    )
    ctx = RequestContext(request_id="bench")
    token = bind_context(ctx)
    try:
        return await timed(lambda: router.run("g", answer), requests)
    finally:
        unbind_context(token)
        await router.aclose()


async def main(requests: int, redis_url: str) -> None:
    baseline = await timed(lambda: answer(deployments(1)[0]), requests)
    print(f"baseline (attempt called directly): {baseline.wall_us:.2f} us wall")
    print(f"{'state':<7} {'strategy':<24} {'deps':>4} {'wall us':>9} {'cpu us':>8}")
    redis_ok = await _redis_reachable(redis_url)
    for backend in ("local", "redis"):
        if backend == "redis" and not redis_ok:
            print(f"redis   (skipped: {redis_url} not reachable)")
            continue
        for strategy in sorted(STRATEGIES):
            for size in (1, 50):
                namespace = f"toolrelay-bench:{uuid.uuid4().hex}"
                state: RouterState = (
                    LocalState(deployments(size))
                    if backend == "local"
                    else RedisState(
                        redis_client(redis_url),
                        deployments(size),
                        namespace=namespace,
                    )
                )
                n = requests if backend == "local" else max(1, requests // 4)
                result = await measure(strategy, size, state, n)
                if backend == "redis":
                    await _clean(redis_url, namespace)
                print(
                    f"{backend:<7} {strategy:<24} {size:>4} "
                    f"{result.wall_us - baseline.wall_us:>9.1f} "
                    f"{result.cpu_us - baseline.cpu_us:>8.1f}"
                )


async def _redis_reachable(url: str) -> bool:
    client = redis_client(url)
    try:
        await client.ping()
        return True
    except Exception:  # any failure just means: skip the Redis rows
        return False
    finally:
        await client.aclose()


async def _clean(url: str, namespace: str) -> None:
    client = redis_client(url)
    keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    try:
        import uvloop

        runner: Callable[..., object] = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(main(args.requests, args.redis))
