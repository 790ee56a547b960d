"""`/moderations` (OpenAI's shape) and `/rerank` (LiteLLM's, after Cohere: `query`,
`documents`, `top_n` in; `results` of `index`, `relevance_score`, `document` out).

Routed and accounted like chat: keys, model access, budgets, limits, fallbacks, one spend row
(`call_type` `moderation` or `rerank`). Moderation reports no usage (OpenAI does not bill it);
rerank is priced per query with `input_cost_per_query`, else by the tokens reported.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http_io import JSONResponse
from gateway.media.checks import moderation_body, rerank_body
from gateway.media.usage import record_rerank
from gateway.providers.base import JSON, Provider, ProviderCall
from gateway.providers.media import ModerationProvider, RerankProvider
from gateway.routes.inference import InferenceCalls
from gateway.routes.media import unsupported
from gateway.state import GatewayState


class ScoringRoutes:
    def __init__(self, calls: InferenceCalls) -> None:
        self.calls = calls

    async def moderations(self, request: Request) -> Response:
        record = await self.calls.begin(request, "moderation", moderation_body)

        async def moderate(provider: Provider, call: ProviderCall) -> JSON:
            if not isinstance(provider, ModerationProvider):
                raise unsupported(call, "moderation")
            return await provider.moderate(call)

        answer = await self.calls.route(record, moderate)
        await self.calls.finish(record, None)
        return JSONResponse(answer)

    async def rerank(self, request: Request) -> Response:
        record = await self.calls.begin(request, "rerank", rerank_body)

        async def rank(provider: Provider, call: ProviderCall) -> JSON:
            if not isinstance(provider, RerankProvider):
                raise unsupported(call, "rerank")
            return await provider.rerank(call)

        answer = await self.calls.route(record, rank)
        record_rerank(record, answer)
        await self.calls.finish(record, None)
        return JSONResponse(answer)


def routes(state: GatewayState) -> list[Route]:
    handlers = ScoringRoutes(InferenceCalls(state))
    return [
        Route("/v1/moderations", handlers.moderations, methods=["POST"]),
        Route("/moderations", handlers.moderations, methods=["POST"]),
        *(
            Route(path, handlers.rerank, methods=["POST"])
            for path in ("/v1/rerank", "/v2/rerank", "/rerank")
        ),
    ]
