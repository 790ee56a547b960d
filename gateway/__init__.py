"""toolrelay gateway: one OpenAI-compatible API over many LLM providers."""

__version__ = "0.1.0"
