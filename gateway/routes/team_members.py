"""`/team/member_add` and `/team/member_delete`: team members with roles (`admin`, `user`),
kept in the team's `members_with_roles` and in each user's `teams`. Admin only."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import BadRequestError, NotFoundError
from gateway.http_io import JSONResponse
from gateway.keys.service import Management
from gateway.routes.admin import admin_routes, management_of, parse
from gateway.state import GatewayState


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Member(_Strict):
    role: Literal["admin", "user"] = "user"
    user_id: str | None = Field(default=None, min_length=1, max_length=255)
    user_email: str | None = Field(default=None, max_length=255)

    @model_validator(mode="after")
    def _someone(self) -> Member:
        if not self.user_id and not self.user_email:
            raise ValueError("a member needs user_id or user_email")
        return self


class MemberAdd(_Strict):
    team_id: str
    member: Member | list[Member]


class MemberDelete(_Strict):
    team_id: str
    user_id: str | None = None
    user_email: str | None = None


def _same(a: dict[str, Any], user_id: str | None, user_email: str | None) -> bool:
    return bool(
        (user_id and a.get("user_id") == user_id)
        or (user_email and a.get("user_email") == user_email)
    )


async def _user_for(management: Management, member: Member) -> str | None:
    """The member's user id; a user named by id is created if new (as LiteLLM does)."""
    if member.user_id:
        return member.user_id
    for user in await management.where("user", user_email=member.user_email):
        return user.id
    return None


def routes(state: GatewayState) -> list[Route]:
    async def member_add(request: Request) -> Response:
        management = management_of(state)
        body = await parse(state, request, MemberAdd)
        team = await management.get("team", body.team_id)
        members = [dict(m) for m in team.row.get("members") or []]
        added = body.member if isinstance(body.member, list) else [body.member]
        updated_users = []
        for member in added:
            if any(_same(m, member.user_id, member.user_email) for m in members):
                raise BadRequestError(
                    f"{member.user_id or member.user_email} is already a member of team "
                    f"{body.team_id}.",
                    code="already_member",
                )
            user_id = await _user_for(management, member)
            members.append(
                {"role": member.role, "user_id": user_id, "user_email": member.user_email}
            )
            if user_id is None:
                continue
            try:
                user = await management.get("user", user_id)
                teams = [*list(user.row.get("teams") or []), body.team_id]
                user = await management.update("user", user_id, {"teams": sorted(set(teams))})
            except NotFoundError:
                values = {"teams": [body.team_id], "user_email": member.user_email, "models": []}
                user = await management.create("user", user_id, {**values, "metadata": {}})
            updated_users.append(management.show(user))
        team = await management.update("team", body.team_id, {"members": members})
        return JSONResponse(
            {
                **management.show(team),
                "updated_users": updated_users,
                "updated_team_memberships": [],
            }
        )

    async def member_delete(request: Request) -> Response:
        management = management_of(state)
        body = await parse(state, request, MemberDelete)
        if not body.user_id and not body.user_email:
            raise BadRequestError("Pass user_id or user_email.", param="user_id")
        team = await management.get("team", body.team_id)
        members = [dict(m) for m in team.row.get("members") or []]
        kept = [m for m in members if not _same(m, body.user_id, body.user_email)]
        if len(kept) == len(members):
            raise NotFoundError(
                f"{body.user_id or body.user_email} is not a member of team {body.team_id}.",
                code="not_found",
            )
        for gone in (m for m in members if m not in kept):
            user_id = gone.get("user_id")
            if not user_id:
                continue
            try:
                user = await management.get("user", user_id)
            except NotFoundError:
                continue
            teams = [t for t in user.row.get("teams") or [] if t != body.team_id]
            await management.update("user", user_id, {"teams": teams})
        team = await management.update("team", body.team_id, {"members": kept})
        return JSONResponse(management.show(team))

    return admin_routes(
        state,
        [
            Route("/team/member_add", member_add, methods=["POST"]),
            Route("/team/member_delete", member_delete, methods=["POST"]),
        ],
    )
