"""toolrelay middleware: an OpenAI-compatible endpoint that runs MCP tools server-side."""
