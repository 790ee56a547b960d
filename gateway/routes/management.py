"""The management API's route table: keys, teams, users and end users, spend, stored models
and credentials."""

from __future__ import annotations

from starlette.routing import Route

from gateway.routes import (
    budgets,
    credentials,
    global_spend,
    keys,
    model_admin,
    spend,
    team_members,
    teams,
    users,
)
from gateway.state import GatewayState


def routes(state: GatewayState) -> list[Route]:
    return [
        *keys.routes(state),
        *teams.routes(state),
        *users.routes(state),
        *spend.routes(state),
        *model_admin.routes(state),
        *credentials.routes(state),
        *budgets.routes(state),
        *team_members.routes(state),
        *global_spend.routes(state),
    ]
