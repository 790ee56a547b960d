"""OpenTelemetry GenAI semantic-convention attributes, and the trace-level attributes
Langfuse shows (user, session, tags, name), from OpenAI-shaped requests and responses.

Content (messages, completions) is recorded only as span events, and only when the
operator turned it on (see `TracingSettings.record_content`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import orjson
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
# Langfuse makes a generation (usage, cost) of every span whose `gen_ai.operation.name` is
# "chat" or that names a model, unless `langfuse.observation.type` says otherwise. One model
# request is three such spans here (the middleware's call, the gateway's request, the router's
# attempt): the gateway's request stays the generation, the other two say "span", so Langfuse
# counts each request's tokens and cost once. Other receivers ignore the attribute.
LANGFUSE_OBSERVATION_TYPE = "langfuse.observation.type"
NOT_A_GENERATION: Mapping[str, AttributeValue] = MappingProxyType(
    {LANGFUSE_OBSERVATION_TYPE: "span"}
)
PROMPT_EVENT = "gen_ai.content.prompt"
COMPLETION_EVENT = "gen_ai.content.completion"

JSON = dict[str, Any]


def response_attributes(response: Any) -> dict[str, AttributeValue]:
    """Model, id, finish reasons and token usage of a chat or completion response."""
    if type(response) is not dict:
        return {} if not isinstance(response, dict) else response_attributes(dict(response))
    found: dict[str, AttributeValue] = {}
    model, ident, choices = response.get("model"), response.get("id"), response.get("choices")
    if type(model) is str:
        found[RESPONSE_MODEL] = model
    if type(ident) is str:
        found[RESPONSE_ID] = ident
    if type(choices) is list:
        reasons = []
        for choice in choices:  # a loop, not a comprehension: one frame less per response
            if type(choice) is dict and type(reason := choice.get("finish_reason")) is str:
                reasons.append(reason)
        if reasons:
            found[FINISH_REASONS] = reasons
    usage = response.get("usage")
    if isinstance(usage, dict):
        # `type(...) is int`: a bool is an int to Python, not a token count
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if type(prompt) is int:
            found[INPUT_TOKENS] = prompt
        if type(completion) is int:
            found[OUTPUT_TOKENS] = completion
    return found


def _metadata(body: Mapping[str, Any]) -> JSON:
    metadata = body.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def trace_attributes(
    body: Mapping[str, Any], default_tags: Iterable[str] = ()
) -> dict[str, AttributeValue]:
    """User, session, tags and trace name, from the request's `user` and LiteLLM's
    `metadata` keys (`trace_user_id`, `session_id`, `tags`, `trace_name`)."""
    if (
        not default_tags
        and "metadata" not in body
        and "user" not in body
        and ("litellm_session_id" not in body)
    ):
        return {}  # most requests: nothing to read
    metadata = _metadata(body)
    found: dict[str, AttributeValue] = {}
    user = metadata.get("trace_user_id") or body.get("user")
    if isinstance(user, str) and user:
        found["user.id"] = user  # Langfuse reads user.id and session.id as trace attributes
    session = metadata.get("session_id") or body.get("litellm_session_id")
    if isinstance(session, str) and session:
        found["session.id"] = session
    tags = [*default_tags]
    extra = metadata.get("tags")
    if isinstance(extra, list):
        tags += [t for t in extra if isinstance(t, str)]
    if tags:
        found["langfuse.trace.tags"] = list(dict.fromkeys(tags))
    name = metadata.get("trace_name")
    if isinstance(name, str) and name:
        found["langfuse.trace.name"] = name
    return found


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def record_prompt(span: Span, body: Mapping[str, Any]) -> None:
    messages = body.get("messages", body.get("prompt", body.get("input")))
    span.add_event(PROMPT_EVENT, {"gen_ai.prompt": _json(messages)})


def record_completion(span: Span, response: Any) -> None:
    if not isinstance(response, dict):
        return
    choices = response.get("choices")
    outputs = [c.get("message") or c.get("text") for c in choices or [] if isinstance(c, dict)]
    span.add_event(COMPLETION_EVENT, {"gen_ai.completion": _json(outputs)})
