"""`/v1/models`: the model groups this gateway serves."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import NotFoundError, PermissionDeniedError
from gateway.http_io import JSONResponse
from gateway.limits.hook import allows
from gateway.model_store.secrets import MASK, is_secret_param
from gateway.routes.model_groups import group_info
from gateway.state import GatewayState


def routes(state: GatewayState) -> list[Route]:
    created = int(time.time())

    def entry(name: str) -> dict[str, object]:
        return {"id": name, "object": "model", "created": created, "owned_by": "toolrelay"}

    async def list_models(request: Request) -> Response:
        principal = await state.authenticator.authenticate(request.headers)
        names = [n for n in state.groups.names() if allows(principal.models, n)]
        return JSONResponse({"object": "list", "data": [entry(n) for n in names]})

    async def get_model(request: Request) -> Response:
        principal = await state.authenticator.authenticate(request.headers)
        name = request.path_params["model"]
        if name not in state.groups or not allows(principal.models, name):
            raise NotFoundError(
                f"The model '{name}' does not exist.", code="model_not_found", param="model"
            )
        return JSONResponse(entry(name))

    async def model_info(request: Request) -> Response:
        stored = state.stored_models.store if state.stored_models is not None else None
        # Deployment details (api_base, limits) are for operators, not for every key.
        if not (await state.authenticator.authenticate(request.headers)).is_admin:
            raise PermissionDeniedError("Only the master key (admin) may call /model/info.")
        data = []
        for deployment in state.groups.all():
            params = {
                "model": f"{deployment.provider}/{deployment.model}",
                "api_base": deployment.api_base,
                "api_version": deployment.api_version,
                "rpm": deployment.rpm,
                "tpm": deployment.tpm,
                "weight": deployment.weight,
                "order": deployment.order,
            }
            shown = {k: v for k, v in params.items() if v is not None}
            if stored is not None and stored.live.is_stored(deployment.id):
                # Stored models show that a key is set, never the key (admin page: masked).
                shown.update(
                    {k: MASK for k, v in deployment.extra_params.items() if is_secret_param(k)}
                )
                if deployment.api_key:
                    shown["api_key"] = MASK
            info = {
                **deployment.model_info,
                "id": deployment.id,
                "db_model": stored is not None and stored.live.is_stored(deployment.id),
            }
            data.append(
                {
                    "model_name": deployment.model_name,
                    # Never the api_key: this is shown on the admin page.
                    "litellm_params": shown,
                    "model_info": info,
                }
            )
        return JSONResponse({"data": data})

    async def model_group_info(request: Request) -> Response:
        principal = await state.authenticator.authenticate(request.headers)
        wanted = request.query_params.get("model_group")
        data = [
            group_info(name, state.groups.find(name))
            for name in state.groups.names()
            if allows(principal.models, name) and (wanted is None or wanted == name)
        ]
        return JSONResponse({"data": data})

    table: list[Route] = [
        Route("/model/info", model_info, methods=["GET"]),
        Route("/v1/model/info", model_info, methods=["GET"]),
        Route("/model_group/info", model_group_info, methods=["GET"]),
    ]
    for prefix in ("/v1", ""):
        table += [
            Route(f"{prefix}/models", list_models, methods=["GET"]),
            Route(prefix + "/models/{model:path}", get_model, methods=["GET"]),
        ]
    return table
