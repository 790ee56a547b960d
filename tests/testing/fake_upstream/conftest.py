from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from openai import AsyncOpenAI, OpenAI

from tests.support.processes import ServiceProcess
from tests.testing.fake_upstream.harness import running_fake_upstream

TEST_KEY = "sk-fake-upstream-test"


@pytest.fixture(scope="session")
def upstream(service_log_dir: Path) -> Iterator[ServiceProcess]:
    """One fake upstream process for the whole suite; tests use distinct model names."""
    with running_fake_upstream(service_log_dir) as service:
        yield service


@pytest.fixture(scope="session")
def keyed_upstream(service_log_dir: Path) -> Iterator[ServiceProcess]:
    with running_fake_upstream(service_log_dir, require_key=TEST_KEY) as service:
        yield service


@pytest.fixture
def client(upstream: ServiceProcess) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{upstream.url}/v1", api_key="test", max_retries=0, timeout=10) as sdk:
        yield sdk


@pytest.fixture
async def async_client(upstream: ServiceProcess) -> AsyncIterator[AsyncOpenAI]:
    sdk = AsyncOpenAI(base_url=f"{upstream.url}/v1", api_key="test", max_retries=0, timeout=10)
    async with sdk:
        yield sdk


@pytest.fixture
def control(upstream: ServiceProcess) -> Iterator[httpx.Client]:
    """Plain HTTP to the fake's own routes (/__fake__/*, raw bodies)."""
    with httpx.Client(base_url=upstream.url, timeout=10) as http:
        yield http
