"""Serve any stdio MCP server (npm, PyPI, a binary) over streamable HTTP and SSE.

    toolrelay mcp bridge [--host H] [--port N] [--shared] -- COMMAND ARGS...

Each client connection gets its own child process (or all share one with `--shared`).
A child that dies is restarted on the next request; its process group is killed when the
connection ends and at shutdown. From config, an `mcp_servers` entry with
`transport: stdio` and `{command, args, env}` becomes an app with `app_from_entry(entry)`.

Settings (`mcp_server_settings.bridge`, or the entry): `command` (a string, or a list
holding the command and its arguments), `args`, `env`, `cwd`, `shared`,
`start_timeout_s`, `request_timeout_s`, `auth_token`, `allowed_hosts`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.applications import Starlette

from common.config import validation_problems
from mcp_servers._http import build_http_app, serve
from mcp_servers.bridge._child import ChildSpec
from mcp_servers.bridge._proxy import BridgeMiddleware, ChildPool

__all__ = [
    "DEFAULT_PORT",
    "BridgeSettings",
    "ChildPool",
    "ChildSpec",
    "app_from_entry",
    "build_app",
    "build_bridge_app",
    "main",
]

DEFAULT_PORT = 8120


class BridgeSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    command: list[str] = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    shared: bool = False
    start_timeout_s: float = Field(default=60.0, gt=0, le=600)
    request_timeout_s: float = Field(default=300.0, gt=0, le=3600)
    auth_token: str | None = None
    allowed_hosts: list[str] | None = None

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("env", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
        return value

    def spec(self) -> ChildSpec:
        return ChildSpec(
            command=self.command[0],
            args=(*self.command[1:], *self.args),
            env=self.env,
            cwd=self.cwd,
        )


def parse_settings(settings: Mapping[str, Any]) -> BridgeSettings:
    if not settings.get("command"):
        raise ValueError("bridge: no command: toolrelay mcp bridge -- COMMAND ARGS...")
    try:
        return BridgeSettings.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc))
        raise ValueError(f"bridge settings: {problems}") from None


def build_bridge_app(settings: BridgeSettings) -> Starlette:
    pool = ChildPool(
        settings.spec(),
        shared=settings.shared,
        start_timeout_s=settings.start_timeout_s,
        request_timeout_s=settings.request_timeout_s,
    )
    server: MCPServer[Any] = MCPServer(
        "bridge",
        instructions=f"stdio MCP server bridged over HTTP: {pool.spec.describe()}",
        middleware=[BridgeMiddleware(pool)],
    )

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        async with anyio.create_task_group() as host:
            pool.bind(host)
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True):
                    await pool.aclose()
                host.cancel_scope.cancel()

    async def health() -> dict[str, Any]:
        return {
            "command": pool.spec.describe(),
            "mode": "shared" if pool.shared else "per-session",
            "children": pool.pids(),
        }

    return build_http_app(
        server,
        auth_token=settings.auth_token,
        lifespan=lifespan,
        health=health,
        allowed_hosts=settings.allowed_hosts,
    )


def build_app(settings: Mapping[str, Any]) -> Starlette:
    """The CLI's entry: `settings["command"]` is the command and its arguments."""
    return build_bridge_app(parse_settings(settings))


def app_from_entry(entry: Mapping[str, Any], *, shared: bool = False) -> Starlette:
    """An app for a config `mcp_servers` entry `{command, args, env}` (transport: stdio)."""
    return build_bridge_app(parse_settings({"shared": shared, **entry}))


def main(argv: Sequence[str]) -> int:
    """`[--host H] [--port N] [--shared] [--auth-token T] -- COMMAND ARGS...`; exit status."""
    argv = list(argv)
    command: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(prog="toolrelay mcp bridge")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--shared", action="store_true", help="one child for all sessions")
    parser.add_argument("--auth-token", default=os.environ.get("MCP_AUTH_TOKEN"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        app = build_app({"command": command, "shared": args.shared, "auth_token": args.auth_token})
    except ValueError as exc:
        print(f"toolrelay mcp bridge: error: {exc}", file=sys.stderr)
        return 2
    serve(app, args.host, args.port)
    return 0
