"""The circuit in front of the shared Redis: a refused connection opens it at once, a lone
timeout (a stalled event loop on a busy host looks the same) does not, repeated timeouts do."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.shared_redis import RedisCircuit, build_redis_client
from tests.support.processes import free_port


def closed_circuit() -> RedisCircuit:
    # nothing listens there: the probe a trip starts keeps failing until aclose
    return RedisCircuit(build_redis_client(f"redis://127.0.0.1:{free_port()}/0"))


@pytest.mark.anyio
async def test_refused_connection_opens_the_circuit_at_once() -> None:
    circuit = closed_circuit()
    try:
        circuit.trip(RedisConnectionError("refused"), during="test")
        assert not circuit.available and circuit.trips == 1
    finally:
        await circuit.aclose()
        await circuit.client.aclose()


@pytest.mark.anyio
async def test_a_lone_timeout_leaves_the_circuit_closed() -> None:
    circuit = closed_circuit()
    try:
        circuit.trip(RedisTimeoutError("Timeout reading"), during="test")
        circuit.trip(TimeoutError(), during="test")
        assert circuit.available and circuit.trips == 0
    finally:
        await circuit.aclose()
        await circuit.client.aclose()


@pytest.mark.anyio
async def test_repeated_timeouts_open_the_circuit() -> None:
    circuit = closed_circuit()
    try:
        for _ in range(circuit.timeout_strikes):
            circuit.trip(RedisTimeoutError("Timeout reading"), during="test")
        assert not circuit.available and circuit.trips == 1
    finally:
        await circuit.aclose()
        await circuit.client.aclose()


@pytest.mark.anyio
async def test_timeouts_spread_beyond_the_window_never_add_up() -> None:
    circuit = closed_circuit()
    circuit.timeout_window_seconds = 0.0  # every earlier timeout is already outside it
    try:
        for _ in range(circuit.timeout_strikes * 2):
            circuit.trip(RedisTimeoutError("Timeout reading"), during="test")
        assert circuit.available
    finally:
        await circuit.aclose()
        await circuit.client.aclose()
