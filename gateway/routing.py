"""Kept for imports from before `gateway.router` existed; use `gateway.router`."""

from gateway.router import Attempt, ModelGroups, Router, RunOptions, weight_of

__all__ = ["Attempt", "ModelGroups", "Router", "RunOptions", "weight_of"]
