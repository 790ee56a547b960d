"""A small MCP server with tools that prove things: a barrier (concurrency), a failing
tool, a PNG image, big text, a slow tool. Served over real streamable HTTP and SSE.

    python -m tests.middleware.mcp_test_server --port N
"""

from __future__ import annotations

import argparse
import struct
import zlib
from typing import Any

import anyio
import uvicorn
from mcp.server.mcpserver import Context, Image, MCPServer
from starlette.applications import Starlette

from mcp_servers._http import build_http_app

BARRIER_PARTIES = 2
BARRIER_BOUND_SECONDS = 15.0


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def build_server(only: list[str] | None = None) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("toolrelay-test")

    def tool(fn: Any) -> Any:
        if only is None or fn.__name__ in only:
            server.tool()(fn)
        return fn

    arrivals: dict[str, int] = {}
    events: dict[str, anyio.Event] = {}

    @tool
    async def barrier(group: str, party: str) -> str:
        """Wait until two calls of the same group have started (deadlocks if run one by one)."""
        arrivals[group] = arrivals.get(group, 0) + 1
        event = events.setdefault(group, anyio.Event())
        if arrivals[group] >= BARRIER_PARTIES:
            event.set()
        with anyio.move_on_after(BARRIER_BOUND_SECONDS):
            await event.wait()
            return f"barrier {group} met by {party}"
        raise RuntimeError(f"barrier {group}: the other call never started ({party} waited alone)")

    @tool
    async def fail(reason: str = "boom") -> str:
        """Always fails."""
        raise RuntimeError(f"failed on purpose: {reason}")

    @tool
    async def picture() -> Image:
        """Return a small PNG image."""
        return Image(data=tiny_png(), format="png")

    @tool
    async def big_text(size: int) -> str:
        """Return `size` characters of text."""
        return ("0123456789" * (size // 10 + 1))[:size]

    @tool
    async def slow(seconds: float) -> str:
        """Sleep, then answer."""
        await anyio.sleep(seconds)
        return f"slept {seconds}"

    @tool
    async def garbage(kind: str) -> str:
        """Answered with garbage by the faulty proxy in front of this server (by `kind`)."""
        return f"no garbage: {kind} reached the real server"

    @tool
    async def echo(text: str) -> str:
        """Echo the text back."""
        return f"echo: {text}"

    @tool
    async def request_header(name: str, ctx: Context) -> str:
        """The value of an HTTP header of this call's request (to check propagation)."""
        request = ctx.request_context.request
        headers = getattr(request, "headers", None)
        value = headers.get(name) if headers is not None else None
        return value if value is not None else "<absent>"

    @tool
    async def session_ref(ctx: Context) -> str:
        """Which MCP session this call came on: its session header, or legacy SSE's
        `session_id` query parameter."""
        request = ctx.request_context.request
        headers = getattr(request, "headers", None)
        found = headers.get("mcp-session-id") if headers is not None else None
        params = getattr(request, "query_params", None)
        found = found or (params.get("session_id") if params is not None else None)
        return found or "<none>"

    @tool
    async def grow(name: str, ctx: Context) -> str:
        """Add a tool called `name` and announce that the tool list changed."""

        async def added() -> str:
            return f"{name} was added"

        server.add_tool(added, name=name, description=f"added at run time: {name}")
        await ctx.notify_tools_changed()
        return f"added {name}"

    return server


def build_app(only: list[str] | None = None) -> Starlette:
    return build_http_app(build_server(only or None))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--only", nargs="*", help="serve only these tools")
    args = parser.parse_args()
    uvicorn.run(build_app(args.only), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
