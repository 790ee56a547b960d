"""One model group as `/model_group/info` shows it (LiteLLM's `ModelGroupInfo`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.deployments import Deployment


def _first(deployments: Sequence[Deployment], name: str) -> Any:
    for deployment in deployments:
        value = deployment.model_info.get(name)
        if value is not None:
            return value
    return None


def _total(values: list[int | None]) -> int | None:
    # A group's capacity is the sum of its deployments' limits; unlimited if any is.
    return None if not values or any(v is None for v in values) else sum(v or 0 for v in values)


def group_info(name: str, deployments: Sequence[Deployment]) -> dict[str, Any]:
    inputs = [d.input_cost_per_token for d in deployments if d.input_cost_per_token is not None]
    outputs = [d.output_cost_per_token for d in deployments if d.output_cost_per_token is not None]
    return {
        "model_group": name,
        "providers": sorted({d.provider for d in deployments}),
        "max_input_tokens": _first(deployments, "max_input_tokens"),
        "max_output_tokens": _first(deployments, "max_output_tokens"),
        "input_cost_per_token": max(inputs) if inputs else None,
        "output_cost_per_token": max(outputs) if outputs else None,
        "mode": deployments[0].mode if deployments else "chat",
        "tpm": _total([d.tpm for d in deployments]),
        "rpm": _total([d.rpm for d in deployments]),
        "supports_function_calling": bool(_first(deployments, "supports_function_calling")),
        "supports_vision": bool(_first(deployments, "supports_vision")),
    }
