"""Schemathesis against the gateway's own OpenAPI description (served at /openapi.json), on a
real gateway process with the master key: no 5xx, and every error in OpenAI shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from gateway.routes.openapi import load_spec
from tests.reliability.stack import MASTER_KEY, Stack

SCHEMA = schemathesis.openapi.from_dict(load_spec())
# `/health` takes no input and calls every deployment (the hanging one too); test_access covers it.
OPERATIONS = {
    op.label: op
    for op in (r.ok() for r in SCHEMA.get_all_operations())
    if op.label != "GET /health"
}
# Anthropic's error shape, by design, on its own route family.
ANTHROPIC_SHAPED = {"POST /v1/messages", "POST /v1/messages/count_tokens"}


def test_served_spec_matches_the_file_and_covers_the_routes(stack: Stack) -> None:
    served = httpx.get(f"{stack.url}/openapi.json", timeout=30).json()
    assert served == load_spec()
    for path in ("/v1/chat/completions", "/key/generate", "/spend/logs", "/health"):
        assert path in served["paths"]


def _check(label: str, response: httpx.Response) -> None:
    assert response.status_code < 500, (label, response.status_code, response.text[:500])
    if response.status_code >= 400:
        body: Any = response.json()
        if label in ANTHROPIC_SHAPED:
            assert body["type"] == "error" and body["error"]["message"]
        else:
            assert isinstance(body["error"]["message"], str), body


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_fuzz_operation(stack: Stack, label: str) -> None:
    operation = OPERATIONS[label]
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as client:

        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            kwargs = case.as_transport_kwargs(base_url=stack.url)
            # generated security headers are replaced by the real master key
            generated = {k.lower(): v for k, v in (kwargs.get("headers") or {}).items()}
            request_headers = {**generated, **headers}
            response = client.request(
                kwargs["method"],
                kwargs["url"],
                params=kwargs.get("params"),
                headers=request_headers,
                json=kwargs.get("json"),
                content=kwargs.get("data") if "json" not in kwargs else None,
            )
            _check(label, response)

        run()
