"""Pick how to count for a model: its first deployment's provider API (Anthropic, Gemini),
else tiktoken, else the estimate. A provider count that fails (an outage, an old API
version) falls back to counting here, with a warning, since a count is advice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from common.chat_validation import ChatBodyError, parse_chat_request
from gateway.anthropic_api.compat import prepare_for_translation
from gateway.anthropic_api.request import chat_request
from gateway.deployments import Deployment
from gateway.errors import GatewayError
from gateway.providers.base import JSON
from gateway.state import GatewayState
from gateway.token_counting.local import TokenCount, count_locally
from gateway.token_counting.native import anthropic_body, anthropic_count, gemini_count

log = structlog.get_logger("toolrelay.gateway.tokens")


class TokenCounter:
    def __init__(self, state: GatewayState) -> None:
        self.state = state

    def _deployment(self, model: str) -> Deployment | None:
        deployments = self.state.groups.find(model)
        return deployments[0] if deployments else None

    async def for_messages(self, native: JSON, beta: str | None) -> TokenCount:
        """An Anthropic Messages body (already normalised)."""
        model = str(native.get("model"))
        deployment = self._deployment(model)
        chat_body = chat_request(prepare_for_translation(native))
        if deployment is not None and deployment.provider == "anthropic":
            timeout = self.state.timeout_for(deployment.timeout)
            return await self._native(
                "anthropic_api",
                lambda: anthropic_count(self.state.http, deployment, native, timeout, beta),
                deployment,
                chat_body,
            )
        return await self.for_chat(model, chat_body)

    async def for_chat(self, model: str, chat_body: JSON) -> TokenCount:
        deployment = self._deployment(model)
        if deployment is None:
            return count_locally(model, chat_body)
        if deployment.provider not in ("anthropic", "gemini"):
            return count_locally(deployment.model, chat_body)
        try:
            # the provider's own counter takes a valid chat body; a prompt-only body or one
            # the chat check refuses is still worth a local count
            chat = parse_chat_request({**chat_body, "model": deployment.model})
        except ChatBodyError:
            return count_locally(deployment.model, chat_body)
        timeout = self.state.timeout_for(deployment.timeout)
        http = self.state.http
        if deployment.provider == "anthropic":
            native = anthropic_body(chat, deployment)
            return await self._native(
                "anthropic_api",
                lambda: anthropic_count(http, deployment, native, timeout),
                deployment,
                chat_body,
            )
        return await self._native(
            "gemini_api",
            lambda: gemini_count(http, deployment, chat, timeout),
            deployment,
            chat_body,
        )

    async def _native(
        self,
        method: str,
        call: Callable[[], Awaitable[int]],
        deployment: Deployment,
        chat_body: JSON,
    ) -> TokenCount:
        try:
            return TokenCount(await call(), method, estimated=False)
        except GatewayError as exc:
            log.warning(
                "provider token count failed; counting locally",
                provider=deployment.provider,
                model=deployment.model,
                error=exc.message,
            )
            return count_locally(deployment.model, chat_body)
