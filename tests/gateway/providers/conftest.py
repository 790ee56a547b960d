from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from tests.gateway.providers.stack import MASTER_KEY, Stack, running_stack


@pytest.fixture(scope="module")
def stack(service_log_dir: Path) -> Iterator[Stack]:
    with running_stack(service_log_dir) as running:
        yield running


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{stack.gateway_url}/v1", api_key=MASTER_KEY, max_retries=0) as c:
        yield c
