"""Code shared by the gateway, the middleware and the MCP servers; it imports none of them."""
