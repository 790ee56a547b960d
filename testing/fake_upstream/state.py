"""What every route handler can reach: the scenario, the scripts, the recorder, the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from .embeddings import EmbeddingCache
from .google_oauth import GoogleAccounts
from .ids import IdSource
from .recorder import Recorder
from .scenario import Scenario
from .scripts import ScriptBook

DEFAULT_MODELS = (
    "fake",
    "echo",
    "tool-call",
    "parallel-tool-calls",
    "size-200",
    "text-embedding-fake",
)


@dataclass
class UpstreamState:
    scenario: Scenario
    scripts: ScriptBook
    recorder: Recorder
    ids: IdSource
    require_key: str | None = None
    models: tuple[str, ...] = DEFAULT_MODELS
    embeddings: EmbeddingCache = field(default_factory=EmbeddingCache)
    google: GoogleAccounts = field(default_factory=GoogleAccounts)  # Vertex's OAuth side


class InvalidJson:
    """Stands in for a request body that was present but not JSON."""


INVALID_JSON = InvalidJson()
