"""`/global/spend`, `/global/spend/report` (admin) and `/spend/calculate` (any key)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.deployments import Deployment, split_provider
from gateway.errors import BadRequestError, ServiceUnavailableError
from gateway.http_io import JSONResponse
from gateway.limits.hook import estimate_prompt_tokens
from gateway.routes.admin import accounts_of, admin_routes, caller, parse
from gateway.routes.spend import _date
from gateway.spend.global_report import GROUP_BY_CHOICES, spend_report, total_spend
from gateway.state import GatewayState
from gateway.store.database import StoreUnavailableError


class SpendCalculate(BaseModel):
    """LiteLLM's SpendCalculateRequest."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    messages: list[dict[str, Any]] | None = None
    completion_response: dict[str, Any] | None = None


def routes(state: GatewayState) -> list[Route]:
    async def global_spend(request: Request) -> Response:
        extra = state.config.file.litellm_settings.model_extra or {}
        max_budget = extra.get("max_budget")
        try:
            spend = await total_spend(accounts_of(state).db)
        except StoreUnavailableError as exc:
            raise ServiceUnavailableError("The spend database is unavailable.") from exc
        return JSONResponse(
            {"spend": spend, "max_budget": float(max_budget) if max_budget else 0.0}
        )

    async def report(request: Request) -> Response:
        q = request.query_params
        group_by = q.get("group_by") or "team"
        if group_by not in GROUP_BY_CHOICES:
            raise BadRequestError(
                f"group_by must be one of {', '.join(GROUP_BY_CHOICES)}, got {group_by!r}.",
                param="group_by",
            )
        try:
            found = await spend_report(
                accounts_of(state).db,
                group_by,
                _date(q.get("start_date"), "start_date"),
                _date(q.get("end_date"), "end_date"),
            )
        except StoreUnavailableError as exc:
            raise ServiceUnavailableError("The spend database is unavailable.") from exc
        return JSONResponse(found)

    async def calculate(request: Request) -> Response:
        await caller(state, request)
        body = await parse(state, request, SpendCalculate)
        response = body.completion_response or {}
        model = body.model or response.get("model")
        if not isinstance(model, str) or not model:
            raise BadRequestError(
                "Pass 'model' (or a completion_response with one).", param="model"
            )
        usage = response.get("usage") if isinstance(response.get("usage"), dict) else None
        if usage is not None:
            prompt = int(usage.get("prompt_tokens") or 0)
            completion = int(usage.get("completion_tokens") or 0)
        elif body.messages is not None:
            prompt, completion = estimate_prompt_tokens({"messages": body.messages}), 0
        else:
            raise BadRequestError("Pass 'messages' or 'completion_response'.", param="messages")
        deployment = _deployment_for(state, model)
        rates = accounts_of(state).prices.price_for(deployment).rates_for(prompt)
        return JSONResponse({"cost": prompt * rates.input + completion * rates.output})

    return [
        *admin_routes(
            state,
            [
                Route("/global/spend", global_spend, methods=["GET"]),
                Route("/global/spend/report", report, methods=["GET"]),
            ],
        ),
        Route("/spend/calculate", calculate, methods=["POST"]),
    ]


def _deployment_for(state: GatewayState, model: str) -> Deployment:
    """A model group's first deployment (its prices), or the price source's model."""
    if model in state.groups:
        return state.groups.get(model)[0]
    provider, name = split_provider(model)
    return Deployment(id="spend-calculate", model_name=model, provider=provider, model=name)
