"""Shared plumbing of the management API (keys, teams, users, end users, spend): the admin
check, body parsing, and the route table."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.routing import Route

from gateway.access import Scope, admin_scope, owned_scope
from gateway.auth import Principal
from gateway.errors import BadRequestError, ServiceUnavailableError
from gateway.http_io import read_json_object
from gateway.keys.accounts import Accounts
from gateway.state import GatewayState

Body = TypeVar("Body", bound=BaseModel)


def accounts_of(state: GatewayState) -> Accounts:
    accounts = state.accounts
    if accounts is None:
        raise ServiceUnavailableError("Key management is not configured.", code="no_store")
    return accounts


async def caller(state: GatewayState, request: Request) -> Principal:
    return await state.authenticator.authenticate(request.headers)


async def require_admin(state: GatewayState, request: Request) -> Principal:
    """proxy_admin; proxy_admin_viewer too when the request only reads (gateway.access)."""
    principal = await caller(state, request)
    admin_scope(principal, request.url.path, request.method)
    return principal


async def require_scope(state: GatewayState, request: Request, *, changing: bool) -> Scope:
    """Keys and spend: everything for admins, their own rows for internal users."""
    principal = await caller(state, request)
    return owned_scope(principal, request.url.path, changing=changing)


async def parse(state: GatewayState, request: Request, model: type[Body]) -> Body:
    body = await read_json_object(request, state.max_body_bytes)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise BadRequestError(
            f"Invalid request body at '{where}': {first['msg']}.", param=where
        ) from None


def routes(state: GatewayState) -> list[Route]:
    from gateway.routes import keys, spend, teams, users

    return [*keys.routes(state), *teams.routes(state), *users.routes(state), *spend.routes(state)]
