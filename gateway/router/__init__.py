"""Routing across deployments: strategies, retries, fallbacks, cooldowns, shared state."""

from gateway.router.build import DEFAULT_NAMESPACE, RouterUsageHook, build_router
from gateway.router.groups import ModelGroups
from gateway.router.router import (
    FALLBACKS_HEADER,
    MODEL_GROUP_HEADER,
    MODEL_ID_HEADER,
    RETRIES_HEADER,
    Attempt,
    NoDeploymentsAvailableError,
    Router,
    RunOptions,
)
from gateway.router.strategies import weight_of

__all__ = [
    "DEFAULT_NAMESPACE",
    "FALLBACKS_HEADER",
    "MODEL_GROUP_HEADER",
    "MODEL_ID_HEADER",
    "RETRIES_HEADER",
    "Attempt",
    "ModelGroups",
    "NoDeploymentsAvailableError",
    "Router",
    "RouterUsageHook",
    "RunOptions",
    "build_router",
    "weight_of",
]
