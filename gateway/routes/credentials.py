"""`/credentials`: provider credentials stored once (encrypted) and referenced by models
through `litellm_params.litellm_credential_name`, in LiteLLM's shapes. Admin only. Values
are never returned: every one shows as the mask."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http_io import JSONResponse
from gateway.model_store.wire import CredentialItem, CredentialUpdate
from gateway.routes.admin import admin_routes, parse
from gateway.routes.model_admin import model_store_of
from gateway.state import GatewayState


def routes(state: GatewayState) -> list[Route]:
    async def create(request: Request) -> Response:
        store = model_store_of(state)
        await store.add_credential(await parse(state, request, CredentialItem))
        return JSONResponse({"success": True, "message": "Credential created successfully"})

    async def list_all(request: Request) -> Response:
        store = model_store_of(state)
        found = await store.all_credentials()
        return JSONResponse({"credentials": [store.credential_view(r) for r in found]})

    async def by_name(request: Request) -> Response:
        store = model_store_of(state)
        row = await store.credential(request.path_params["credential_name"])
        return JSONResponse(store.credential_view(row))

    async def update(request: Request) -> Response:
        store = model_store_of(state)
        body = await parse(state, request, CredentialUpdate)
        await store.update_credential(request.path_params["credential_name"], body)
        return JSONResponse({"success": True, "message": "Credential updated successfully"})

    async def delete(request: Request) -> Response:
        store = model_store_of(state)
        await store.delete_credential(request.path_params["credential_name"])
        return JSONResponse({"success": True, "message": "Credential deleted successfully"})

    return admin_routes(
        state,
        [
            Route("/credentials", create, methods=["POST"]),
            Route("/credentials", list_all, methods=["GET"]),
            Route("/credentials/by_name/{credential_name}", by_name, methods=["GET"]),
            Route("/credentials/{credential_name}", update, methods=["PATCH"]),
            Route("/credentials/{credential_name}", delete, methods=["DELETE"]),
        ],
    )
