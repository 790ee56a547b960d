"""`/budget/new|info|update|delete|list`: LiteLLM's budget objects, which keys, teams, users
and end users reference by `budget_id`. Admin only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.budgets.book import BudgetBook, budget_view
from gateway.budgets.wire import BudgetIds, DeleteBudget, NewBudget, UpdateBudget
from gateway.http_io import JSONResponse
from gateway.routes.admin import accounts_of, admin_routes, parse
from gateway.state import GatewayState


def routes(state: GatewayState) -> list[Route]:
    def book() -> BudgetBook:
        return accounts_of(state).budgets

    async def new(request: Request) -> Response:
        body = await parse(state, request, NewBudget)
        return JSONResponse(budget_view(await book().create(body)))

    async def update(request: Request) -> Response:
        body = await parse(state, request, UpdateBudget)
        return JSONResponse(budget_view(await book().update(body)))

    async def info(request: Request) -> Response:
        body = await parse(state, request, BudgetIds)
        return JSONResponse([budget_view(await book().get(b)) for b in body.budgets])

    async def list_all(request: Request) -> Response:
        return JSONResponse([budget_view(r) for r in await book().all()])

    async def delete(request: Request) -> Response:
        body = await parse(state, request, DeleteBudget)
        return JSONResponse(budget_view(await book().delete(body.id)))

    return admin_routes(
        state,
        [
            Route("/budget/new", new, methods=["POST"]),
            Route("/budget/update", update, methods=["POST"]),
            Route("/budget/info", info, methods=["POST"]),
            Route("/budget/list", list_all, methods=["GET"]),
            Route("/budget/delete", delete, methods=["POST"]),
        ],
    )
