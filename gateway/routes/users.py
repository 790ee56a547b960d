"""`/user/*` (internal users, who own keys) and `/customer/*` with its `/end_user/*` alias
(end users: the request's `user` field, with optional budgets)."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.access import Scope
from gateway.errors import BadRequestError, NotFoundError
from gateway.http_io import JSONResponse
from gateway.keys.model import Entity
from gateway.keys.service import column_values, new_id
from gateway.keys.wire import (
    CustomerIds,
    DeleteUsers,
    NewCustomer,
    NewUser,
    UpdateCustomer,
    UpdateUser,
)
from gateway.routes.admin import admin_routes, limits_of, management_of, owned_routes, parse
from gateway.state import GatewayState


def routes(state: GatewayState) -> list[Route]:
    async def new_user(request: Request) -> Response:
        body = await parse(state, request, NewUser)
        values = await limits_of(state, column_values("user", body, creating=True))
        entity = await management_of(state).create("user", body.user_id or new_id(), values)
        out = management_of(state).show(entity)
        if body.auto_create_key:
            key_values: dict[str, Any] = {
                "user_id": entity.id,
                "models": values.get("models", []),
                "metadata": {},
                "blocked": False,
                "tags": [],
                "key_alias": body.key_alias,
            }
            plain, key = await management_of(state).generate_key(key_values)
            out.update(key=plain, token=key.id, expires=key.row.get("expires"))
        return JSONResponse(out)

    async def user_info(request: Request, scope: Scope) -> Response:
        user_id = request.query_params.get("user_id") or scope.user_id
        if not user_id:
            raise BadRequestError("Pass ?user_id=...", param="user_id")
        scope.check_owner(user_id, "user info")
        entity = await management_of(state).get("user", user_id)
        keys = await management_of(state).where("key", user_id=user_id)
        return JSONResponse(
            {
                "user_id": user_id,
                "user_info": management_of(state).show(entity),
                "keys": [management_of(state).show(k) for k in keys],
                "teams": list(entity.row.get("teams") or []),
            }
        )

    async def update_user(request: Request) -> Response:
        body = await parse(state, request, UpdateUser)
        entity = await management_of(state).update(
            "user",
            body.user_id,
            await limits_of(state, column_values("user", body, creating=False)),
        )
        return JSONResponse(management_of(state).show(entity))

    async def delete_users(request: Request) -> Response:
        body = await parse(state, request, DeleteUsers)
        deleted = await management_of(state).delete("user", body.user_ids)
        if not deleted:
            raise NotFoundError("None of these users exist.", code="not_found")
        return JSONResponse({"deleted_users": deleted})

    async def list_users(request: Request) -> Response:
        q = request.query_params
        page, size = _positive(q.get("page"), 1), _positive(q.get("page_size"), 25)
        found = await management_of(state).where("user")
        return JSONResponse(
            {
                "users": [
                    management_of(state).show(u) for u in found[(page - 1) * size : page * size]
                ],
                "total": len(found),
                "page": page,
                "page_size": size,
                "total_pages": max(1, math.ceil(len(found) / size)),
            }
        )

    def customer_view(entity: Entity) -> dict[str, Any]:
        out: dict[str, Any] = management_of(state).show(entity)
        limits = entity.limits
        out["litellm_budget_table"] = (
            {
                "max_budget": limits.max_budget,
                "budget_duration": limits.budget_duration,
                "rpm_limit": limits.rpm_limit,
                "tpm_limit": limits.tpm_limit,
            }
            if limits.max_budget is not None or limits.rpm_limit or limits.tpm_limit
            else None
        )
        return out

    async def new_customer(request: Request) -> Response:
        body = await parse(state, request, NewCustomer)
        entity = await management_of(state).create(
            "end_user",
            body.user_id,
            await limits_of(state, column_values("end_user", body, creating=True)),
        )
        return JSONResponse(customer_view(entity))

    async def customer_info(request: Request) -> Response:
        q = request.query_params
        end_user_id = q.get("end_user_id") or q.get("user_id")
        if not end_user_id:
            raise BadRequestError("Pass ?end_user_id=...", param="end_user_id")
        return JSONResponse(customer_view(await management_of(state).get("end_user", end_user_id)))

    async def update_customer(request: Request) -> Response:
        body = await parse(state, request, UpdateCustomer)
        entity = await management_of(state).update(
            "end_user",
            body.user_id,
            await limits_of(state, column_values("end_user", body, creating=False)),
        )
        return JSONResponse(customer_view(entity))

    async def delete_customers(request: Request) -> Response:
        body = await parse(state, request, CustomerIds)
        deleted = await management_of(state).delete("end_user", body.user_ids)
        if not deleted:
            raise NotFoundError("None of these end users exist.", code="not_found")
        return JSONResponse({"deleted_customers": deleted})

    async def list_customers(request: Request) -> Response:
        return JSONResponse(
            [customer_view(e) for e in await management_of(state).where("end_user")]
        )

    async def set_customers_blocked(request: Request, blocked: bool) -> Response:
        body = await parse(state, request, CustomerIds)
        changed = []
        for user_id in body.user_ids:
            try:
                await management_of(state).update("end_user", user_id, {"blocked": blocked})
            except NotFoundError:
                await management_of(state).create(
                    "end_user",
                    user_id,
                    {"blocked": blocked, "models": [], "metadata": {}},
                )
            changed.append(user_id)
        return JSONResponse({"blocked_users" if blocked else "unblocked_users": changed})

    async def block_customers(request: Request) -> Response:
        return await set_customers_blocked(request, True)

    async def unblock_customers(request: Request) -> Response:
        return await set_customers_blocked(request, False)

    table = [
        Route("/user/new", new_user, methods=["POST"]),
        Route("/user/update", update_user, methods=["POST"]),
        Route("/user/delete", delete_users, methods=["POST"]),
        Route("/user/list", list_users, methods=["GET"]),
    ]
    for prefix in ("/customer", "/end_user"):
        table += [
            Route(f"{prefix}/new", new_customer, methods=["POST"]),
            Route(f"{prefix}/info", customer_info, methods=["GET"]),
            Route(f"{prefix}/update", update_customer, methods=["POST"]),
            Route(f"{prefix}/delete", delete_customers, methods=["POST"]),
            Route(f"{prefix}/list", list_customers, methods=["GET"]),
            Route(f"{prefix}/block", block_customers, methods=["POST"]),
            Route(f"{prefix}/unblock", unblock_customers, methods=["POST"]),
        ]
    # an internal user may read their own row; the rest is about everyone
    return [*owned_routes(state, [("/user/info", user_info, "GET")]), *admin_routes(state, table)]


MAX_PAGE = 2**31 - 1


def _positive(text: str | None, default: int) -> int:
    """A page number or size from the query string; bad input is the client's error (400)."""
    if not text:
        return default
    try:
        # capped: the page is echoed back, and JSON integers beyond 64 bits cannot be encoded
        return min(max(1, int(text)), MAX_PAGE)
    except ValueError:
        raise BadRequestError(f"expected an integer, got {text[:40]!r}") from None
