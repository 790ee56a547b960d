"""The gateway's tracing seam: a `RequestHook` that names the request's SERVER span after
the call and records GenAI attributes on it (model, provider, token usage, outcome).

It goes first in the hook chain, so its `post_call` also runs for refused requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import AttributeValue

from common.tracing import genai
from common.tracing.light import current_span
from common.tracing.settings import TracingSettings
from gateway.hooks import CallRecord
from gateway.tracing.operations import OPERATIONS


@dataclass
class TracingHook:
    """Everything is written in `post_call`, which runs exactly once for every request whose
    `pre_call` ran (refused ones too): one lookup of the span and one attribute update per
    request. `pre_call` only records the prompt, when content is on (its event then carries
    the time the call began)."""

    settings: TracingSettings

    async def pre_call(self, record: CallRecord) -> None:
        if not self.settings.record_content:
            return
        span = current_span()
        if span.is_recording():
            genai.record_prompt(span, record.body)

    async def post_call(self, record: CallRecord) -> None:
        span = current_span()
        if not span.is_recording():
            return
        operation = OPERATIONS[record.call_type]
        span.update_name(f"{operation} {record.model_group}")
        attributes: dict[str, AttributeValue] = {
            genai.OPERATION: operation,
            genai.REQUEST_MODEL: record.model_group,
            "toolrelay.request_id": record.request_id,
            **genai.trace_attributes(record.body, self.settings.default_tags),
            genai.INPUT_TOKENS: record.prompt_tokens,
            genai.OUTPUT_TOKENS: record.completion_tokens,
        }
        if self.settings.record_key_info:
            principal = record.principal
            for name, value in (
                ("toolrelay.key.hash", principal.token),
                ("toolrelay.key.alias", principal.key_alias),
                ("toolrelay.team.id", principal.team_id),
                ("toolrelay.user.id", principal.user_id),
            ):
                if value:
                    attributes[name] = value
        if record.cache_hit:
            attributes["toolrelay.cache_hit"] = True
        if record.deployment is not None:
            attributes[genai.PROVIDER] = record.deployment.provider
            attributes[genai.RESPONSE_MODEL] = record.deployment.model
        if record.status == "failure":
            attributes["error.type"] = record.error_type or "error"
            span.set_status(Status(StatusCode.ERROR, record.error_type or "error"))
        span.set_attributes(attributes)
