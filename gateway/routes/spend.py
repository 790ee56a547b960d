"""`/spend/logs` and `/spend/tags` (admin): raw rows, or daily summaries from the rollups."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.access import Scope
from gateway.errors import BadRequestError, ServiceUnavailableError
from gateway.http_io import JSONResponse
from gateway.keys.hashing import hash_key
from gateway.routes.admin import accounts_of, admin_routes, owned_routes
from gateway.spend.reports import SpendFilter, daily_summary, spend_logs, tag_spend
from gateway.state import GatewayState
from gateway.store.database import StoreUnavailableError


def _date(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise BadRequestError(
            f"{name} must be a date like 2025-01-31, got {text!r}", param=name
        ) from None


def routes(state: GatewayState) -> list[Route]:
    async def logs(request: Request, scope: Scope) -> Response:
        db = accounts_of(state).db
        q = request.query_params
        api_key = q.get("api_key")
        limit = q.get("limit")
        f = SpendFilter(
            start=_date(q.get("start_date"), "start_date"),
            end=_date(q.get("end_date"), "end_date"),
            api_key=hash_key(api_key) if api_key else None,
            team_id=q.get("team_id"),
            user_id=q.get("user_id") if scope.everything else scope.user_id,
            model=q.get("model"),
            request_id=q.get("request_id"),
            limit=int(limit) if limit and limit.isdigit() else 1000,
        )
        summarize = q.get("summarize", "true").lower() != "false"
        try:
            if summarize and f.start is not None and f.end is not None and f.request_id is None:
                return JSONResponse(await daily_summary(db, f))
            return JSONResponse(await spend_logs(db, f))
        except StoreUnavailableError as exc:
            raise ServiceUnavailableError("The spend database is unavailable.") from exc

    async def tags(request: Request) -> Response:
        q = request.query_params
        try:
            found = await tag_spend(
                accounts_of(state).db,
                _date(q.get("start_date"), "start_date"),
                _date(q.get("end_date"), "end_date"),
            )
        except StoreUnavailableError as exc:
            raise ServiceUnavailableError("The spend database is unavailable.") from exc
        return JSONResponse(found)

    return [
        *owned_routes(state, [("/spend/logs", logs, "GET")]),
        *admin_routes(state, [Route("/spend/tags", tags, methods=["GET"])]),
    ]
