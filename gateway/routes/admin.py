"""What every management route shares: who is calling, the route tables that declare who
may call them, the store-backed services, and strict body parsing into the route's model.

Access is declared once per route table, never per handler, so a new route cannot forget
it: `admin_routes` for routes about everyone (proxy_admin; proxy_admin_viewer reading), and
`owned_routes` for keys and spend, whose handlers get the caller's `Scope` (everything, or
one internal user's rows). Who may do what is `gateway.access`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from common.config import first_problem
from gateway.access import SAFE_METHODS, Scope, admin_scope, owned_scope
from gateway.accounts import Accounts
from gateway.auth import Principal
from gateway.errors import BadRequestError, ServiceUnavailableError
from gateway.http_io import read_json_object
from gateway.keys.service import Management
from gateway.state import GatewayState

Body = TypeVar("Body", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]
ScopedHandler = Callable[[Request, Scope], Awaitable[Response]]


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
    """proxy_admin; proxy_admin_viewer too when the request only reads (gateway.access)."""
    principal = await caller(state, request)
    admin_scope(principal, request.url.path, request.method)
    return principal


async def require_scope(state: GatewayState, request: Request) -> Scope:
    """Keys and spend: everything for admins, their own rows for internal users; a request
    changes something unless its method is a safe one."""
    principal = await caller(state, request)
    changing = request.method.upper() not in SAFE_METHODS
    return owned_scope(principal, request.url.path, changing=changing)


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


def owned_routes(state: GatewayState, table: list[tuple[str, ScopedHandler, str]]) -> list[Route]:
    """(path, handler, method) rows: each handler runs with the caller's scope, or not at all."""

    def scoped(handler: ScopedHandler) -> Handler:
        async def endpoint(request: Request) -> Response:
            return await handler(request, await require_scope(state, request))

        return endpoint

    return [Route(path, scoped(handler), methods=[method]) for path, handler, method in table]


async def parse(state: GatewayState, request: Request, model: type[Body]) -> Body:
    body = await read_json_object(request, state.max_body_bytes)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        where, message = first_problem(exc)
        raise BadRequestError(
            f"Invalid request body at '{where}': {message}.", param=where
        ) from None
