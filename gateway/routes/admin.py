"""What every management route shares: who is calling, the admin-only route table, the
store-backed services, and strict body parsing into the route's pydantic model.

Admin access is declared once per route table with `admin_routes`, never per handler, so a
new route cannot forget it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from common.config import first_problem
from gateway.accounts import Accounts
from gateway.auth import Principal
from gateway.errors import BadRequestError, PermissionDeniedError, ServiceUnavailableError
from gateway.http_io import read_json_object
from gateway.keys.service import Management
from gateway.state import GatewayState

Body = TypeVar("Body", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]


def accounts_of(state: GatewayState) -> Accounts:
    accounts = state.accounts
    if accounts is None:
        raise ServiceUnavailableError("Key management is not configured.", code="no_store")
    return accounts


def management_of(state: GatewayState) -> Management:
    return accounts_of(state).management


async def limits_of(state: GatewayState, values: dict[str, Any]) -> dict[str, Any]:
    """Entity column values, with the limits of the budget object they reference."""
    return await accounts_of(state).budgets.apply(values)


async def caller(state: GatewayState, request: Request) -> Principal:
    return await state.authenticator.authenticate(request.headers)


async def require_admin(state: GatewayState, request: Request) -> Principal:
    principal = await caller(state, request)
    if not principal.is_admin:
        raise PermissionDeniedError(
            f"Only the master key (admin) may call {request.url.path}.", code="admin_only"
        )
    return principal


def admin_routes(state: GatewayState, table: list[Route]) -> list[Route]:
    """The same routes, each refusing any caller but the admin before its handler runs."""

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            await require_admin(state, request)
            return await handler(request)

        return endpoint

    return [
        Route(route.path, guarded(route.endpoint), methods=sorted(route.methods or ()))
        for route in table
    ]


async def parse(state: GatewayState, request: Request, model: type[Body]) -> Body:
    body = await read_json_object(request, state.max_body_bytes)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        where, message = first_problem(exc)
        raise BadRequestError(
            f"Invalid request body at '{where}': {message}.", param=where
        ) from None
