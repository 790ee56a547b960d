"""LiteLLM's `POST /utils/token_counter`: `{"model", "messages" | "prompt"}` ->
`{"total_tokens", "request_model", "model_used", "tokenizer_type"}`, counted by the model's
provider where it has an API for it (see `gateway.token_counting`). `estimated` says whether
the number is exact for that model."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import BadRequestError
from gateway.http_io import JSONResponse, read_json_object, require_model
from gateway.state import GatewayState
from gateway.token_counting.counter import TokenCounter

_TOKENIZER_TYPES = {"estimate": "character_estimate"}


class TokenCounterRoute:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.counter = TokenCounter(state)

    async def count(self, request: Request) -> Response:
        await self.state.authenticator.authenticate(request.headers)
        body = await read_json_object(request, self.state.max_body_bytes)
        model = require_model(body)
        if not isinstance(body.get("messages"), list) and not isinstance(
            body.get("prompt"), str | list
        ):
            raise BadRequestError(
                "token_counter needs 'messages' (a list) or 'prompt'", param="messages"
            )
        deployments = self.state.groups.find(model)
        counted = await self.counter.for_chat(model, body)
        tokenizer = counted.method.split(":", 1)[0]
        return JSONResponse(
            {
                "total_tokens": counted.total,
                "request_model": model,
                "model_used": deployments[0].model if deployments else model,
                "tokenizer_type": _TOKENIZER_TYPES.get(tokenizer, tokenizer),
                "estimated": counted.estimated,
            }
        )


def routes(state: GatewayState) -> list[Route]:
    handler = TokenCounterRoute(state)
    return [Route("/utils/token_counter", handler.count, methods=["POST"])]
