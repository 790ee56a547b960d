"""The Anthropic Messages API as a front door: Anthropic shapes in, OpenAI shapes to the router,
Anthropic shapes (bodies, SSE events, errors) back out."""
