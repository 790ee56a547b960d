"""toolrelay's MCP servers: postgres, fetch, browser, storage, and a stdio bridge.

Each server package `mcp_servers.<name>` exposes `DEFAULT_PORT` and
`build_app(settings) -> Starlette`; `mcp_servers.cli` starts one by name through
`mcp_servers.registry`. This package imports nothing from the gateway or the middleware.
"""
