"""`GET /mcp/tools/list` and `POST /mcp/tools/call`: the MCP tools as plain REST, per key.

`GET /mcp-rest/tools/list` and `POST /mcp-rest/tools/call` are the same in LiteLLM's shapes
(its proxy's REST bridge to MCP), so scripts written against LiteLLM keep working: tools as
one list with `mcp_info.server_name`, filtered by `server_id` or `mcp_server_name`; a call names
its server as `server_id` and gets the MCP `CallToolResult` back.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from middleware.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from middleware.http_io import JSONResponse, bearer_key, read_json_object
from middleware.permissions import ToolPermissions
from middleware.routes._state import app_state
from middleware.state import AppState
from middleware.tools import CatalogEntry


async def _permissions(request: Request, state: AppState) -> ToolPermissions:
    key = bearer_key(request.headers)
    if key is None:
        raise AuthenticationError(
            "No API key provided. Pass it as 'Authorization: Bearer <key>'.",
            code="missing_api_key",
        )
    return (await state.keys.check(key)).permissions


def _tool_json(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "name": entry.exposed,
        "mcp_name": entry.tool,
        "description": entry.description,
        "inputSchema": entry.parameters,
    }


async def list_tools(request: Request) -> Response:
    state = app_state(request)
    permissions = await _permissions(request, state)
    grouped = state.catalog().by_server(permissions)
    servers = []
    for status in state.pool.status():
        name = status["name"]
        if permissions.servers is not None and name not in permissions.servers:
            continue
        servers.append({**status, "tools": [_tool_json(e) for e in grouped.get(name, [])]})
    return JSONResponse({"servers": servers})


def _find(state: AppState, name: str, server: str | None) -> CatalogEntry:
    entries = state.catalog().entries
    entry = entries.get(name)
    if entry is not None and (server is None or entry.server == server):
        return entry
    matches = [
        e for e in entries.values() if e.tool == name and (server is None or e.server == server)
    ]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise BadRequestError(
            f"Tool '{name}' exists on several servers; pass the server ('server', or "
            "'server_id' on /mcp-rest)."
        )
    raise NotFoundError(f"No MCP tool named '{name}'.", code="tool_not_found")


async def list_tools_litellm(request: Request) -> Response:
    state = app_state(request)
    permissions = await _permissions(request, state)
    wanted = request.query_params.get("server_id") or request.query_params.get("mcp_server_name")
    grouped = state.catalog().by_server(permissions)
    known = {status["name"] for status in state.pool.status()}
    if wanted is not None and wanted not in known:
        return JSONResponse(
            {
                "tools": [],
                "error": "server_not_found",
                "message": f"Server with id {wanted} not found",
            }
        )
    if wanted is not None and permissions.servers is not None and wanted not in permissions.servers:
        raise PermissionDeniedError(
            f"The key is not allowed to access server {wanted}", code="access_denied"
        )
    tools = [
        {
            "name": entry.tool,
            "description": entry.description,
            "inputSchema": entry.parameters,
            "mcp_info": {"server_name": server, "server_id": server, "alias": server},
        }
        for server, entries in grouped.items()
        if wanted is None or server == wanted
        for entry in entries
    ]
    return JSONResponse({"tools": tools, "error": None, "message": "Successfully retrieved tools"})


async def call_tool(request: Request) -> Response:
    return await _call(request, server_field="server")


async def call_tool_litellm(request: Request) -> Response:
    return await _call(request, server_field="server_id")


async def _call(request: Request, *, server_field: str) -> Response:
    state = app_state(request)
    permissions = await _permissions(request, state)
    body = await read_json_object(request)
    name = body.get("name")
    arguments = body.get("arguments") or {}
    server = body.get(server_field)
    if not isinstance(name, str) or not name:
        raise BadRequestError("'name' (a tool name) is required.")
    if not isinstance(arguments, dict):
        raise BadRequestError("'arguments' must be an object.")
    if server is not None and not isinstance(server, str):
        raise BadRequestError(f"'{server_field}' must be a string.")
    entry = _find(state, name, server)
    if not permissions.allows(entry.server, entry.tool, entry.exposed):
        raise PermissionDeniedError(f"This key may not call '{name}'.", code="tool_not_allowed")
    end_user = state.end_users.resolve(
        request.headers, body.get("user"), bearer_key(request.headers)
    )
    shaped = await state.runner.run(entry.server, entry.tool, arguments, end_user.session_key)
    content = shaped.content or [{"type": "text", "text": shaped.text}]
    result: dict[str, Any] = {
        "server": entry.server,
        "name": entry.exposed,
        "content": content,
        "isError": shaped.is_error,
        "outcome": shaped.outcome,
    }
    if shaped.structured is not None:
        result["structuredContent"] = shaped.structured
    return JSONResponse(result)


routes = [
    Route("/mcp/tools/list", list_tools, methods=["GET"]),
    Route("/mcp/tools/call", call_tool, methods=["POST"]),
    Route("/mcp-rest/tools/list", list_tools_litellm, methods=["GET"]),
    Route("/mcp-rest/tools/call", call_tool_litellm, methods=["POST"]),
]
