"""LLM providers behind one small interface, chosen from a registry by `provider/` prefix."""
