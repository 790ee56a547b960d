"""The providers' own counting APIs: Anthropic `POST /v1/messages/count_tokens` and Gemini
`models/{model}:countTokens`. Upstream errors map through each provider's classifier, as for
its chat calls."""

from __future__ import annotations

from typing import cast

import httpx

from common.chat import ChatRequest
from gateway.deployments import Deployment
from gateway.providers import anthropic, gemini
from gateway.providers.anthropic_request import messages_request
from gateway.providers.base import JSON
from gateway.providers.gemini_request import generate_request
from gateway.providers.transport import Upstream

# What Anthropic's count_tokens takes; the generation settings of a Messages body are not.
ANTHROPIC_COUNTED = frozenset(
    {
        "model",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "mcp_servers",
        "context_management",
        "output_config",
    }
)


async def anthropic_count(
    http: httpx.AsyncClient,
    deployment: Deployment,
    native: JSON,
    upstream_timeout: float,
    beta: str | None = None,
) -> int:
    body = {k: v for k, v in native.items() if k in ANTHROPIC_COUNTED}
    body["model"] = deployment.model
    headers = {"content-type": "application/json", "anthropic-version": anthropic.API_VERSION}
    if deployment.api_key:
        headers["x-api-key"] = deployment.api_key
    if beta:
        headers["anthropic-beta"] = beta
    headers.update(deployment.extra_headers)
    url = anthropic.messages_url(deployment.api_base or anthropic.DEFAULT_BASE) + "/count_tokens"
    answer = await Upstream(http, anthropic.NAME, anthropic.classify).post_json(
        url, body, headers, upstream_timeout
    )
    return int(answer.get("input_tokens") or 0)


def anthropic_body(chat: ChatRequest, deployment: Deployment) -> JSON:
    """A chat body as Anthropic's Messages shape (for `/utils/token_counter`)."""
    return messages_request({**chat, "model": deployment.model}, deployment.model, drop_params=True)


async def gemini_count(
    http: httpx.AsyncClient, deployment: Deployment, chat: ChatRequest, upstream_timeout: float
) -> int:
    unstreamed = cast(
        ChatRequest, {k: v for k, v in chat.items() if k not in ("stream", "stream_options")}
    )
    request = generate_request(unstreamed, drop_params=True)
    base = deployment.api_base or gemini.DEFAULT_BASE
    if not base.endswith(("/v1beta", "/v1")):
        base += gemini.API_PATH
    url = f"{base}/models/{deployment.model}:countTokens"
    headers = {"content-type": "application/json"}
    if deployment.api_key:
        headers["x-goog-api-key"] = deployment.api_key
    headers.update(deployment.extra_headers)
    body = {"generateContentRequest": {"model": f"models/{deployment.model}", **request}}
    answer = await Upstream(http, gemini.NAME, gemini.classify).post_json(
        url, body, headers, upstream_timeout
    )
    return int(answer.get("totalTokens") or 0)
