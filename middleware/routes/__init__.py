"""HTTP routes: chat, models, MCP REST, files, health, metrics."""
