"""LiteLLM's pass-through routes (`/openai/*`, `/anthropic/*`, `/gemini/*`): a provider's own
API, reached with a virtual key; the gateway adds the provider key, relays the body unbuffered
and records spend from the usage it sees go by."""
