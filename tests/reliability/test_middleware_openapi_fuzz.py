"""Schemathesis against the middleware's OpenAPI description on real processes (middleware,
gateway, an MCP server): no 5xx, errors in OpenAI shape."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from middleware.routes.openapi import load_spec
from tests.reliability.load import FullStack, running_full_stack
from tests.reliability.stack import MASTER_KEY

SCHEMA = schemathesis.openapi.from_dict(load_spec())
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullStack]:
    with running_full_stack(tmp_path_factory.mktemp("mwfuzz")) as running:
        yield running


def test_served_spec_matches_the_file(full: FullStack) -> None:
    assert httpx.get(f"{full.middleware.url}/openapi.json", timeout=30).json() == load_spec()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_fuzz_middleware_operation(full: FullStack, label: str) -> None:
    operation = OPERATIONS[label]
    base = full.middleware.url
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:

        @settings(
            max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            kwargs = case.as_transport_kwargs(base_url=base)
            generated = {k.lower(): v for k, v in (kwargs.get("headers") or {}).items()}
            response = client.request(
                kwargs["method"],
                kwargs["url"],
                params=kwargs.get("params"),
                headers={**generated, **headers},
                json=kwargs.get("json"),
            )
            assert response.status_code < 500, (label, response.status_code, response.text[:500])
            if response.status_code >= 400:
                assert isinstance(response.json()["error"]["message"], str)

        run()
