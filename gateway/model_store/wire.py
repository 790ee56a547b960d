"""Request bodies of `/model/*` and `/credentials`, in LiteLLM's shapes (pydantic at the wire).

The bodies themselves are strict: a field the route does not implement is a 400 naming it.
`litellm_params` and `model_info` accept extra keys, as `model_list` entries do in the
config: they are provider parameters passed through.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.config.schema import LiteLLMParams, ModelInfo


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoredParams(LiteLLMParams):
    litellm_credential_name: str | None = None


class UpdateParams(StoredParams):
    model: str | None = None  # type: ignore[assignment]  # optional on update


class NewModel(_Strict):
    """LiteLLM's `Deployment`, the body of `/model/new`."""

    model_name: str = Field(min_length=1, max_length=255)
    litellm_params: StoredParams
    model_info: ModelInfo = Field(default_factory=ModelInfo)


class UpdateModel(_Strict):
    """LiteLLM's `updateDeployment`: only the given fields change; the id is
    `model_info.id` (or the path of `PATCH /model/{model_id}/update`)."""

    model_name: str | None = Field(default=None, min_length=1, max_length=255)
    litellm_params: UpdateParams | None = None
    model_info: ModelInfo | None = None


class DeleteModel(_Strict):
    id: str = Field(min_length=1)


class CredentialItem(_Strict):
    credential_name: str = Field(min_length=1, max_length=255)
    credential_values: dict[str, Any] = Field(default_factory=dict)
    credential_info: dict[str, Any] = Field(default_factory=dict)


class CredentialUpdate(_Strict):
    credential_name: str | None = Field(default=None, min_length=1, max_length=255)
    credential_values: dict[str, Any] | None = None
    credential_info: dict[str, Any] | None = None
