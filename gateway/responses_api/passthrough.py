"""`/v1/responses` straight to a deployment that speaks the Responses API itself: `openai/`
(`{api_base}/responses`) and `azure/` (the v1 API, `{api_base}/openai/v1/responses`, `model`
naming the Azure deployment).

The gateway keeps the conversation itself, so the upstream gets the whole input (stored
history included) and no `previous_response_id`: any deployment of the group can continue
any conversation. The upstream's own Response (or its events) comes back unchanged apart from
the id, which is the gateway's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from common.responses.request import GATEWAY_CONTROLS
from gateway.deployments import Deployment
from gateway.errors import BadRequestError
from gateway.providers import azure
from gateway.providers.base import JSON, ProviderCall
from gateway.providers.openai_compatible import OPENAI_COMPATIBLE_BASES
from gateway.providers.sse import server_events
from gateway.providers.transport import Upstream

PASSTHROUGH_PROVIDERS = frozenset({"openai", "azure"})
_NOT_FORWARDED = frozenset({"previous_response_id", *GATEWAY_CONTROLS}) - {"metadata"}


def takes_responses(deployment: Deployment) -> bool:
    return deployment.provider in PASSTHROUGH_PROVIDERS


def upstream_body(native: JSON, conversation: list[JSON], model: str, *, stream: bool) -> JSON:
    body = {k: v for k, v in native.items() if k not in _NOT_FORWARDED}
    body["model"] = model
    body["input"] = conversation
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
    return body


def _target(
    http: httpx.AsyncClient, deployment: Deployment
) -> tuple[Upstream, str, dict[str, str]]:
    headers = {"content-type": "application/json"}
    if deployment.provider == "azure":
        if not deployment.api_base:
            raise BadRequestError(
                f"deployment {deployment.model_name!r} (azure/) needs litellm_params.api_base",
                code="missing_api_base",
            )
        if deployment.api_key:
            headers["api-key"] = deployment.api_key
        url = f"{deployment.api_base.rstrip('/')}/openai/v1/responses"
        upstream = Upstream(http, azure.NAME, azure.classify)
    else:
        base = deployment.api_base or OPENAI_COMPATIBLE_BASES["openai"]
        if deployment.api_key:
            headers["authorization"] = f"Bearer {deployment.api_key}"
        if deployment.organization:
            headers["openai-organization"] = deployment.organization
        url = f"{str(base).rstrip('/')}/responses"
        upstream = Upstream(http, deployment.provider)
    headers.update(deployment.extra_headers)
    return upstream, url, headers


async def create(http: httpx.AsyncClient, call: ProviderCall, body: JSON) -> JSON:
    upstream, url, headers = _target(http, call.deployment)
    headers["x-request-id"] = call.request_id
    return await upstream.post_json(url, body, headers, call.timeout)


async def stream(http: httpx.AsyncClient, call: ProviderCall, body: JSON) -> AsyncIterator[JSON]:
    """The upstream's events as dicts; an `error` event raises, mapped like any error."""
    upstream, url, headers = _target(http, call.deployment)
    headers["x-request-id"] = call.request_id
    lines = upstream.stream_lines(url, body, headers, call.timeout)
    async for event in server_events(lines):
        parsed = upstream.parse_object(event.data)
        if parsed.get("type") == "error":
            raise upstream.stream_error(500, event.data.encode())
        yield parsed
