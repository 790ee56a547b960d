"""Code that more than one service needs and that belongs to none of them.

Imports point one way: `gateway`, `middleware` and `mcp_servers` may import `common`; nothing
in `common` imports them, so any one service still runs alone.
"""
