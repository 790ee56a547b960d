"""Cache hit latency through a real gateway, and JWT verification cost per request.

    uv run python bench/cache_jwt_cost.py [--requests 2000] [--jwt-requests 20000]

1. Starts the fake upstream and a gateway (one worker, local response cache) on loopback,
   then times identical chat requests from one keep-alive client: cache hits, and, for
   comparison, the same request with `cache: {no-cache: true}` (a miss that goes upstream).
   Client-side wall time per request; median and p99.
2. In process: the JWT authenticator (header parse, JWKS lookup from its warm cache,
   signature, exp/aud checks, claim mapping) over RS256 and ES256 tokens, microseconds each.
   The JWKS is served by an in-process transport, so no network is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import yaml
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from gateway.auth import MasterKeyAuthenticator
from gateway.config import config_from_mapping
from gateway.jwt import with_jwt_auth
from testing.fake_upstream import command_args

MASTER = "sk-bench-master"
AUDIENCE = "bench-gateway"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], url: str, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, *args], stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, **env}, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args} exited; see {log}")
        try:
            if httpx.get(url, timeout=1).is_success:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop(process)
    raise TimeoutError(f"{url} did not answer; see {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered) * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms"


def time_requests(
    client: httpx.Client, url: str, body: dict[str, Any], n: int, expect: str
) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.post(url, json=body)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200 and response.headers["x-toolrelay-cache"] == expect
    return samples


def bench_cache(requests: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="toolrelay-bench-cache-"))
    upstream_port, gateway_port = free_port(), free_port()
    upstream = start(
        command_args(upstream_port, record_limit=100),
        f"http://127.0.0.1:{upstream_port}/health",
        work / "upstream.log",
        {},
    )
    try:
        config = {
            "model_list": [{"model_name": "gpt-echo", "litellm_params": {
                "model": "openai/echo", "api_base": f"http://127.0.0.1:{upstream_port}/v1", "api_key": "x",
            }}],
            "general_settings": {"master_key": MASTER},
            "litellm_settings": {"cache": True, "cache_params": {"type": "local"}},
        }  # fmt: skip
        (work / "config.yaml").write_text(yaml.safe_dump(config))
        args = ["-m", "toolrelay", "gateway", "--config", str(work / "config.yaml")]
        gateway = start(
            [*args, "--port", str(gateway_port), "--log-level", "warning"],
            f"http://127.0.0.1:{gateway_port}/health/liveliness",
            work / "gateway.log",
            {"TOOLRELAY_HOME": str(work / "home")},
        )
        try:
            url = f"http://127.0.0.1:{gateway_port}/v1/chat/completions"
            body = {
                "model": "gpt-echo",
                "messages": [{"role": "user", "content": "bench the cache"}],
            }
            with httpx.Client(headers={"authorization": f"Bearer {MASTER}"}, timeout=30) as client:
                client.post(url, json=body).raise_for_status()  # fill the entry
                time_requests(client, url, body, 200, "hit")  # warm up
                hits = time_requests(client, url, body, requests, "hit")
                misses = time_requests(
                    client,
                    url,
                    {**body, "cache": {"no-cache": True, "no-store": True}},
                    requests,
                    "miss",
                )
            print(f"cache hit through the gateway ({requests} requests): {percentiles(hits)}")
            print(f"same request, cache bypassed (fake upstream):   {percentiles(misses)}")
        finally:
            stop(gateway)
    finally:
        stop(upstream)


def jwk(public: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = ECAlgorithm if alg.startswith("ES") else RSAAlgorithm
    return {**algorithm.to_jwk(public, as_dict=True), "kid": kid, "alg": alg, "use": "sig"}


async def bench_jwt(n: int) -> None:
    keys: dict[str, tuple[str, Any]] = {
        "RS256": ("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "ES256": ("ec", ec.generate_private_key(ec.SECP256R1())),
    }
    document = {"keys": [jwk(k.public_key(), kid, alg) for alg, (kid, k) in keys.items()]}
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, json=document))
    config = config_from_mapping(
        {"general_settings": {"master_key": MASTER, "enable_jwt_auth": True,
                              "litellm_jwtauth": {"public_key_url": "http://issuer.test/certs",
                                                  "audience": AUDIENCE}}},
        environ={},
    )  # fmt: skip
    async with httpx.AsyncClient(transport=transport) as http:
        inner = MasterKeyAuthenticator(MASTER)
        auth = with_jwt_auth(config, inner, http, lambda _team: False, environ={})
        for alg, (kid, key) in keys.items():
            fresh = [
                jwt.encode(
                    {"sub": f"u{i}", "aud": AUDIENCE, "exp": int(time.time()) + 3600,
                     "realm_access": {"roles": ["AI_USER"]}},
                    key, alg, headers={"kid": kid},
                )
                for i in range(min(n, 2000))
            ]  # fmt: skip
            await auth.authenticate({"authorization": f"Bearer {fresh[0]}"})  # fetch the JWKS
            started = time.perf_counter()
            for token in fresh[1:]:
                await auth.authenticate({"authorization": f"Bearer {token}"})
            per = (time.perf_counter() - started) / (len(fresh) - 1) * 1e6
            print(f"JWT auth, {alg}, first use of a token ({len(fresh) - 1} tokens): {per:.1f} µs")
            headers = {"authorization": f"Bearer {fresh[0]}"}
            started = time.perf_counter()
            for _ in range(n):
                await auth.authenticate(headers)
            per = (time.perf_counter() - started) / n * 1e6
            print(f"JWT auth, {alg}, token seen before ({n} requests): {per:.1f} µs")


async def bench_metrics_hook(n: int) -> None:
    """What recording one call's metrics costs (pre_call + post_call), in process."""
    from gateway.auth import Principal
    from gateway.deployments import Deployment
    from gateway.hooks import CallRecord
    from gateway.metrics import GatewayMetrics, MetricsHook

    hook = MetricsHook(GatewayMetrics(), cost=lambda _r: 0.0001)
    deployment = Deployment(id="d1", model_name="gpt", provider="openai", model="gpt-4o")
    principal = Principal(
        kind="virtual_key", is_admin=False, key_alias="k", token="abc", team_id="t"
    )
    started = time.perf_counter()
    for i in range(n):
        record = CallRecord(
            request_id=str(i), principal=principal, call_type="chat", model_group="gpt", body={},
            deployment=deployment, prompt_tokens=10, completion_tokens=20, upstream_seconds=0.01,
        )  # fmt: skip
        await hook.pre_call(record)
        record.ended_at = record.started_at + 0.02
        await hook.post_call(record)
    per = (time.perf_counter() - started) / n * 1e6
    print(f"metrics hook per request (pre_call + post_call, {n} requests): {per:.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--jwt-requests", type=int, default=20000)
    args = parser.parse_args()
    bench_cache(args.requests)
    asyncio.run(bench_jwt(args.jwt_requests))
    asyncio.run(bench_metrics_hook(args.jwt_requests))


if __name__ == "__main__":
    main()
