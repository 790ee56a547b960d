"""One CLIENT span per router attempt: each try of one deployment, so retries and
fallbacks show as sibling children of the request's span, each with its own outcome."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span, SpanKind
from opentelemetry.util.types import AttributeValue

from common.tracing import genai
from common.tracing.light import LightSpan, light_tracer
from common.tracing.provider import NO_SPAN, active_settings
from gateway.deployments import Deployment
from gateway.tracing.operations import OPERATIONS

if TYPE_CHECKING:
    from gateway.hooks import CallType

TRACER_NAME = "toolrelay.gateway.router"
RETRY = "toolrelay.router.retry"
FALLBACK = "toolrelay.router.fallback"

# What one deployment's attempts share: the deployment it was built for, the span's name,
# its attributes.
_Shared = tuple[Deployment, str, dict[str, AttributeValue]]


class AttemptTracing:
    """The attempt spans of one router. The tracer and the settings are looked up when the
    router is built (after the process installed its provider), not for every attempt. What
    a deployment's attempts share is built once per deployment object (and group) and kept
    here, at most `memo_size` of them: a reloaded config makes new objects, and an identity
    check keeps one at a reused address apart."""

    def __init__(self, memo_size: int = 1024) -> None:
        self.tracer = light_tracer(TRACER_NAME)
        settings = active_settings()
        self.record_content = settings is not None and settings.record_content
        self.memo_size = memo_size
        self._shared: dict[tuple[str, int], _Shared] = {}

    def span(
        self,
        group: str,
        deployment: Deployment,
        retry: int,
        fallback: int,
        call_type: CallType = "chat",
    ) -> AbstractContextManager[Span]:
        """Exceptions leave the span marked as an error (and recorded). With tracing off: a
        `with` that does nothing."""
        tracer = self.tracer
        if tracer is None:
            return NO_SPAN
        key = (group, id(deployment))
        known = self._shared.get(key)
        if known is None or known[0] is not deployment:
            known = (deployment, *_shared(group, deployment))
            if len(self._shared) >= self.memo_size:
                self._shared.clear()
            self._shared[key] = known
        _, name, shared = known
        # a leaf: nothing inside it is traced and no trace context goes upstream
        attributes = {
            **shared,
            genai.OPERATION: OPERATIONS[call_type],  # what the request's span says
            RETRY: retry,
            FALLBACK: fallback,
        }
        return tracer.start_leaf(name, kind=SpanKind.CLIENT, attributes=attributes)

    def record(self, span: Span, result: Any) -> None:
        """A non-streamed answer's usage and finish reasons (a stream's arrive later), on the
        span `span()` made: a light one records until it ends, any other does not."""
        if type(span) is not LightSpan or span.end_time is not None or not isinstance(result, dict):
            return
        span.set_attributes(genai.response_attributes(result))
        if self.record_content:
            genai.record_completion(span, result)


def _shared(group: str, deployment: Deployment) -> tuple[str, dict[str, AttributeValue]]:
    attributes: dict[str, AttributeValue] = {
        genai.REQUEST_MODEL: deployment.model,
        genai.PROVIDER: deployment.provider,
        "toolrelay.model_group": group,
        "toolrelay.deployment.id": deployment.id,
        **genai.NOT_A_GENERATION,  # the request's span is Langfuse's generation
    }
    if deployment.api_base:
        attributes["server.address"] = deployment.api_base
    return f"upstream {deployment.provider}/{deployment.model}", attributes
