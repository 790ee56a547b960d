from __future__ import annotations

from starlette.requests import Request

from middleware.state import AppState


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.middleware
    return state
