"""`/team/*`: teams carry models, budgets and limits that apply to all their keys."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import BadRequestError, NotFoundError
from gateway.http_io import JSONResponse
from gateway.keys.service import column_values, new_id
from gateway.keys.wire import DeleteTeams, NewTeam, TeamRef, UpdateTeam
from gateway.routes.admin import admin_routes, limits_of, management_of, parse
from gateway.state import GatewayState


def routes(state: GatewayState) -> list[Route]:
    async def new(request: Request) -> Response:
        body = await parse(state, request, NewTeam)
        values = await limits_of(state, column_values("team", body, creating=True))
        entity = await management_of(state).create("team", body.team_id or new_id(), values)
        return JSONResponse(management_of(state).show(entity))

    async def info(request: Request) -> Response:
        team_id = request.query_params.get("team_id")
        if not team_id:
            raise BadRequestError("Pass ?team_id=...", param="team_id")
        entity = await management_of(state).get("team", team_id)
        keys = await management_of(state).where("key", team_id=team_id)
        return JSONResponse(
            {
                "team_id": team_id,
                "team_info": management_of(state).show(entity),
                "keys": [management_of(state).show(k) for k in keys],
            }
        )

    async def update(request: Request) -> Response:
        body = await parse(state, request, UpdateTeam)
        values = await limits_of(state, column_values("team", body, creating=False))
        entity = await management_of(state).update("team", body.team_id, values)
        return JSONResponse({"team_id": body.team_id, "data": management_of(state).show(entity)})

    async def delete(request: Request) -> Response:
        body = await parse(state, request, DeleteTeams)
        deleted = await management_of(state).delete("team", body.team_ids)
        if not deleted:
            raise NotFoundError("None of these teams exist.", code="not_found")
        return JSONResponse({"deleted_teams": deleted})

    async def list_teams(request: Request) -> Response:
        return JSONResponse(
            [management_of(state).show(t) for t in await management_of(state).where("team")]
        )

    async def set_blocked(request: Request, blocked: bool) -> Response:
        body = await parse(state, request, TeamRef)
        entity = await management_of(state).update("team", body.team_id, {"blocked": blocked})
        return JSONResponse(management_of(state).show(entity))

    async def block(request: Request) -> Response:
        return await set_blocked(request, True)

    async def unblock(request: Request) -> Response:
        return await set_blocked(request, False)

    return admin_routes(
        state,
        [
            Route("/team/new", new, methods=["POST"]),
            Route("/team/info", info, methods=["GET"]),
            Route("/team/update", update, methods=["POST"]),
            Route("/team/delete", delete, methods=["POST"]),
            Route("/team/list", list_teams, methods=["GET"]),
            Route("/team/block", block, methods=["POST"]),
            Route("/team/unblock", unblock, methods=["POST"]),
        ],
    )
