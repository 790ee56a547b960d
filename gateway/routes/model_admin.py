"""`/model/new`, `/model/update`, `PATCH /model/{model_id}/update`, `/model/delete`: models
kept in the database (`store_model_in_db`), in LiteLLM's shapes. Admin only. Config models
are read-only here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import BadRequestError
from gateway.http_io import JSONResponse
from gateway.model_store.store import ModelStore
from gateway.model_store.wire import DeleteModel, NewModel, UpdateModel
from gateway.routes.admin import admin_routes, caller, parse
from gateway.state import GatewayState


def model_store_of(state: GatewayState) -> ModelStore:
    stored = state.stored_models
    if stored is None:
        raise BadRequestError(
            "Storing models in the database is off. Set general_settings.store_model_in_db: "
            "true or STORE_MODEL_IN_DB=True (and LITELLM_SALT_KEY or a master key).",
            code="store_model_in_db_off",
        )
    return stored.store


def routes(state: GatewayState) -> list[Route]:
    async def who(request: Request) -> str | None:
        principal = await caller(state, request)
        return principal.user_id or ("admin" if principal.is_admin else None)

    async def new(request: Request) -> Response:
        store = model_store_of(state)
        body = await parse(state, request, NewModel)
        return JSONResponse(await store.add(body, await who(request)))

    async def update(request: Request) -> Response:
        store = model_store_of(state)
        body = await parse(state, request, UpdateModel)
        model_id = request.path_params.get("model_id") or (
            body.model_info.id if body.model_info is not None else None
        )
        if not model_id:
            raise BadRequestError("Pass model_info.id: the model to update.", param="model_info.id")
        return JSONResponse(await store.update(model_id, body, await who(request)))

    async def delete(request: Request) -> Response:
        store = model_store_of(state)
        body = await parse(state, request, DeleteModel)
        await store.delete(body.id)
        return JSONResponse({"message": f"Model: {body.id} deleted successfully"})

    return admin_routes(
        state,
        [
            Route("/model/new", new, methods=["POST"]),
            Route("/model/update", update, methods=["POST"]),
            Route("/model/{model_id}/update", update, methods=["PATCH"]),
            Route("/model/delete", delete, methods=["POST"]),
        ],
    )
