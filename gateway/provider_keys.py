"""A deployment's settings from the provider's standard environment variables, as LiteLLM
reads them when `litellm_params` leaves them out (`api_key`, and Azure's base and version).

Resolved once when a deployment is built; the deployment remembers which variable each value
came from so that start-up and `toolrelay config check` can say so (never the value).
Providers that read their own environment (cohere, bedrock, vertex_ai) are not listed here.
"""

from __future__ import annotations

from collections.abc import Mapping

# provider prefix -> variables for api_key, first set one wins (LiteLLM's names)
KEY_VARIABLES: Mapping[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "text-completion-openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "azure": ("AZURE_API_KEY", "AZURE_OPENAI_API_KEY"),
    "groq": ("GROQ_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY", "OR_API_KEY"),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY", "TOGETHER_AI_TOKEN"),
    "fireworks_ai": ("FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY", "FIREWORKSAI_API_KEY"),
    "perplexity": ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"),
    "xai": ("XAI_API_KEY",),
    "hosted_vllm": ("HOSTED_VLLM_API_KEY",),
    "lm_studio": ("LM_STUDIO_API_KEY",),
}
# provider prefix -> {deployment field: variables}, for settings other than the key
OTHER_VARIABLES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "azure": {
        "api_base": ("AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"),
        "api_version": ("AZURE_API_VERSION", "OPENAI_API_VERSION"),
    },
}


def settings_from_environment(
    provider: str, given: Mapping[str, object], environ: Mapping[str, str]
) -> dict[str, tuple[str, str]]:
    """{field: (variable, value)} for each field of `given` that is unset and that one of the
    provider's variables supplies."""
    wanted: dict[str, tuple[str, ...]] = dict(OTHER_VARIABLES.get(provider, {}))
    if provider in KEY_VARIABLES:
        wanted["api_key"] = KEY_VARIABLES[provider]
    found: dict[str, tuple[str, str]] = {}
    for name, variables in wanted.items():
        if given.get(name):
            continue
        for variable in variables:
            value = environ.get(variable)
            if value:
                found[name] = (variable, value)
                break
    return found
