"""Checking a key through the gateway, with a short TTL cache.

`GET /key/info` (LiteLLM's key API; no parameter = the caller's own key) gives the key's
metadata and so its tool permissions. Two answers mean "no key record to read": 404 (a
gateway without the key API) and 400 (the master key, or open mode, has no info of its
own). Then `GET /v1/models` says whether the key is valid, and a valid one may use every
tool.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import orjson

from middleware.errors import AuthenticationError, GatewayHTTPError, PermissionDeniedError
from middleware.gateway_client import GatewayClient
from middleware.permissions import ALL_TOOLS, ToolPermissions, permissions_from_metadata

MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class KeyCheck:
    permissions: ToolPermissions
    is_admin: bool


class KeyChecker:
    def __init__(self, gateway: GatewayClient, *, ttl: float, master_key: str | None) -> None:
        self._gateway = gateway
        self._ttl = ttl
        self._master_key = master_key
        self._cache: OrderedDict[str, tuple[float, KeyCheck]] = OrderedDict()

    async def check(self, key: str | None) -> KeyCheck:
        """The key's permissions; AuthenticationError when the gateway refuses it."""
        if self._master_key is not None and key == self._master_key:
            return KeyCheck(ALL_TOOLS, is_admin=True)
        cache_key = key or ""
        now = time.monotonic()
        cached = self._cache.get(cache_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        result = await self._ask_gateway(key)
        self._cache[cache_key] = (now + self._ttl, result)
        self._cache.move_to_end(cache_key)
        while len(self._cache) > MAX_CACHED_KEYS:
            self._cache.popitem(last=False)
        return result

    async def _ask_gateway(self, key: str | None) -> KeyCheck:
        authorization = f"Bearer {key}" if key else None
        response = await self._gateway.get_raw("/key/info", authorization)
        if response.status_code in {400, 404}:
            response = await self._gateway.get_raw("/v1/models", authorization)
            self._raise_for_refusal(response.status_code, response.content)
            return KeyCheck(ALL_TOOLS, is_admin=False)
        self._raise_for_refusal(response.status_code, response.content)
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = {}
        info = body.get("info") if isinstance(body, dict) else None
        metadata = info.get("metadata") if isinstance(info, dict) else None
        return KeyCheck(
            permissions_from_metadata(metadata if isinstance(metadata, dict) else None),
            is_admin=False,
        )

    @staticmethod
    def _raise_for_refusal(status: int, content: bytes) -> None:
        if status < 400:
            return
        if status == 401:
            raise AuthenticationError("Invalid or missing API key.", code="invalid_api_key")
        if status == 403:
            raise PermissionDeniedError("This key may not use the tool API.")
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            body = {"error": {"message": content[:300].decode(errors="replace")}}
        raise GatewayHTTPError(status, body if isinstance(body, dict) else {})
