"""Router attempt spans: what a deployment's attempts share is built once per deployment
object, and a reloaded deployment (a new object, perhaps at a reused address) gets its own."""

from __future__ import annotations

import pytest

from common.tracing import genai
from common.tracing.light import LightSpan
from common.tracing.sdk_provider import ToolrelayTracerProvider
from common.tracing.settings import TracingSettings
from gateway.deployments import Deployment
from gateway.tracing import router


class _Keep:
    def __init__(self) -> None:
        self.spans: list[LightSpan] = []

    def finish(self, span: LightSpan) -> None:
        self.spans.append(span)


def test_a_reloaded_deployment_is_described_anew(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = ToolrelayTracerProvider(TracingSettings(service_name="router-test"))
    kept = _Keep()
    provider.fanout = kept  # type: ignore[assignment]  # before the tracer reads it
    tracer = provider.light_tracer(router.TRACER_NAME)
    monkeypatch.setattr(router, "light_tracer", lambda name: tracer)
    attempts = router.AttemptTracing()
    old = Deployment(id="d", model_name="m", provider="openai", model="gpt-1")
    with attempts.span("m", old, 0, 0):
        pass
    with attempts.span("m", old, 1, 0):  # from the memo
        pass
    # A reload: a new object with the same id. Were it at the old one's address (CPython
    # reuses them), the memo's entry for that address must not describe it.
    new = Deployment(id="d", model_name="m", provider="openai", model="gpt-2")
    attempts._shared[("m", id(new))] = attempts._shared[("m", id(old))]
    with attempts.span("m", new, 0, 0):
        pass
    seen = [
        (s.name, s.attributes[genai.REQUEST_MODEL], s.attributes[router.RETRY]) for s in kept.spans
    ]
    assert seen == [
        ("upstream openai/gpt-1", "gpt-1", 0),
        ("upstream openai/gpt-1", "gpt-1", 1),
        ("upstream openai/gpt-2", "gpt-2", 0),
    ]
    provider.shutdown()
