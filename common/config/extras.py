"""Keys a pydantic section allowed (`extra="allow"`) but does not declare: unknown keys."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from common.config.errors import KeyPath

KnownExtra = Callable[[BaseModel, str], bool]


def undeclared_keys(
    model: BaseModel, path: KeyPath = (), known: KnownExtra | None = None
) -> list[KeyPath]:
    """The path of every extra key in `model` and its nested models, except those `known` says."""
    found: list[KeyPath] = []
    _collect(model, path, known, found)
    return found


def _collect(
    model: BaseModel, path: KeyPath, known: KnownExtra | None, found: list[KeyPath]
) -> None:
    for key in model.model_extra or {}:
        if known is None or not known(model, key):
            found.append((*path, key))
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            _collect(value, (*path, name), known, found)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _collect(item, (*path, name, i), known, found)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    _collect(item, (*path, name, key), known, found)
