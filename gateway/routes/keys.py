"""`/key/*`: LiteLLM's virtual key API (generate, info, update, delete, list, block, unblock,
regenerate). Admins manage every key, internal users their own (gateway.access); any key may
read its own `/key/info`."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.access import Scope, owned_scope
from gateway.errors import BadRequestError, NotFoundError, PermissionDeniedError
from gateway.http_io import JSONResponse
from gateway.keys.generate_policy import KeyParamPolicy
from gateway.keys.hashing import hash_key
from gateway.keys.service import column_values
from gateway.keys.wire import DeleteKeys, GenerateKey, KeyRef, RegenerateKey, UpdateKey
from gateway.routes.admin import caller, limits_of, management_of, owned_routes, parse
from gateway.state import GatewayState


def routes(state: GatewayState) -> list[Route]:
    async def owned(scope: Scope, token: str) -> None:
        if not scope.everything:
            scope.check_owner((await management_of(state).get("key", token)).user_id, "keys")

    def policy() -> KeyParamPolicy:
        return KeyParamPolicy.of(state.config.file.litellm_settings)

    async def generate(request: Request, scope: Scope) -> Response:
        body = policy().for_new_key(await parse(state, request, GenerateKey))
        values = await limits_of(state, column_values("key", body, creating=True))
        if not scope.everything:
            values["user_id"] = values.get("user_id") or scope.user_id
            scope.check_owner(values["user_id"], "keys")
        plain, entity = await management_of(state).generate_key(values, body.key)
        return JSONResponse(_created(management_of(state).show(entity), plain, body.duration))

    async def info(request: Request) -> Response:
        principal = await caller(state, request)
        asked = request.query_params.get("key")
        if asked is None:
            if principal.token is None:
                raise BadRequestError(
                    "Pass ?key=... (the master key has no key info of its own).", param="key"
                )
            token, shown = principal.token, None
        else:
            token, shown = hash_key(asked), asked
        if not principal.is_admin and token != principal.token:
            if principal.user_id is None:
                raise PermissionDeniedError("A key may only read its own info.", code="not_own_key")
            await owned(owned_scope(principal, request.url.path, changing=False), token)
        entity = await management_of(state).get("key", token)
        return JSONResponse({"key": shown or token, "info": management_of(state).show(entity)})

    async def update(request: Request, scope: Scope) -> Response:
        body = await parse(state, request, UpdateKey)
        policy().check(body)
        values = await limits_of(state, column_values("key", body, creating=False))
        await owned(scope, hash_key(body.key))
        scope.check_owner(values.get("user_id") or scope.user_id, "keys")
        if values.get("team_id"):
            await management_of(state).get("team", values["team_id"])
        entity = await management_of(state).update("key", hash_key(body.key), values)
        return JSONResponse({"key": body.key, **management_of(state).show(entity)})

    async def delete(request: Request, scope: Scope) -> Response:
        body = await parse(state, request, DeleteKeys)
        if not body.keys and not body.key_aliases:
            raise BadRequestError("Pass 'keys' (or 'key_aliases') to delete.", param="keys")
        wanted: dict[str, str] = {hash_key(k): k for k in body.keys or ()}
        for alias in body.key_aliases or ():
            found = await management_of(state).key_by_alias(alias)
            if found is not None:
                wanted[found.id] = alias
        for token in wanted:
            await owned(scope, token)
        deleted = await management_of(state).delete("key", list(wanted)) if wanted else []
        if not deleted:
            raise NotFoundError("None of these keys exist.", code="not_found")
        return JSONResponse({"deleted_keys": [wanted[t] for t in deleted]})

    async def list_keys(request: Request, scope: Scope) -> Response:
        q = request.query_params
        page, size = _int(q.get("page"), 1), _int(q.get("size"), 10)
        filters = {
            name: q[name] for name in ("user_id", "team_id", "key_alias") if q.get(name) is not None
        }
        if scope.user_id is not None:
            filters["user_id"] = scope.user_id
        found = await management_of(state).where("key", **filters)
        chosen = found[(page - 1) * size : page * size]
        full = q.get("return_full_object", "").lower() == "true"
        keys: list[Any] = (
            [management_of(state).show(e) for e in chosen] if full else [e.id for e in chosen]
        )
        return JSONResponse(
            {
                "keys": keys,
                "total_count": len(found),
                "current_page": page,
                "total_pages": max(1, math.ceil(len(found) / size)),
            }
        )

    async def set_blocked(request: Request, scope: Scope, blocked: bool) -> Response:
        body = await parse(state, request, KeyRef)
        await owned(scope, hash_key(body.key))
        entity = await management_of(state).update("key", hash_key(body.key), {"blocked": blocked})
        return JSONResponse(management_of(state).show(entity))

    async def block(request: Request, scope: Scope) -> Response:
        return await set_blocked(request, scope, True)

    async def unblock(request: Request, scope: Scope) -> Response:
        return await set_blocked(request, scope, False)

    async def regenerate(request: Request, scope: Scope) -> Response:
        body = await parse(state, request, RegenerateKey)
        policy().check(body)
        key = request.path_params.get("key") or body.key
        if not key:
            raise BadRequestError("Pass the key to regenerate.", param="key")
        await owned(scope, hash_key(key))
        values = await limits_of(state, column_values("key", body, creating=False))
        plain, entity = await management_of(state).regenerate_key(
            hash_key(key), values, body.new_key
        )
        return JSONResponse(_created(management_of(state).show(entity), plain, body.duration))

    async def health(request: Request) -> Response:
        # LiteLLM's /key/health: the calling key works (authentication passed) and has no
        # logging callbacks of its own (this gateway has none per key).
        await caller(state, request)
        return JSONResponse({"key": "healthy", "logging_callbacks": None})

    return [
        Route("/key/info", info, methods=["GET"]),  # any key, about itself
        Route("/key/health", health, methods=["POST"]),  # any key, about itself
        *owned_routes(
            state,
            [
                ("/key/generate", generate, "POST"),
                ("/key/update", update, "POST"),
                ("/key/delete", delete, "POST"),
                ("/key/list", list_keys, "GET"),
                ("/key/block", block, "POST"),
                ("/key/unblock", unblock, "POST"),
                ("/key/regenerate", regenerate, "POST"),
                ("/key/{key}/regenerate", regenerate, "POST"),
            ],
        ),
    ]


def _created(shown: dict[str, Any], plain: str, duration: str | None) -> dict[str, Any]:
    """LiteLLM's GenerateKeyResponse: the key itself is only ever returned here."""
    return {**shown, "key": plain, "token": shown["token"], "duration": duration}


def _int(text: str | None, default: int) -> int:
    try:
        value = int(text) if text is not None else default
    except ValueError:
        raise BadRequestError(f"expected an integer, got {text!r}") from None
    return min(max(1, value), 2**31 - 1)  # echoed back; JSON integers stop at 64 bits
