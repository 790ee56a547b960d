"""What start-up says `--workers N` does not share, for each kind of config."""

from __future__ import annotations

from typing import Any

from gateway.config import LoadedConfig, config_from_mapping
from gateway.workers import per_worker_state

MODELS = [{"model_name": "m", "litellm_params": {"model": "openai/m", "api_key": "k"}}]


def config(environ: dict[str, str] | None = None, **sections: Any) -> LoadedConfig:
    return config_from_mapping({"model_list": MODELS, **sections}, environ=environ or {})


def test_one_worker_shares_everything_it_has() -> None:
    assert per_worker_state(config(), 1) == []


def test_without_redis_limits_budgets_router_and_key_changes_are_per_worker() -> None:
    lines = per_worker_state(config(), 3)
    joined = "\n".join(lines)
    assert "up to 3x the configured limit" in joined  # rpm/tpm/parallel
    assert "max_budget" in joined
    assert "router" in joined
    assert "deleted or blocked key" in joined
    assert "model_max_budget" in joined and "soft_budget" in joined


def test_with_redis_only_what_redis_does_not_carry_is_named() -> None:
    lines = per_worker_state(config({"REDIS_URL": "redis://127.0.0.1:6379/0"}), 2)
    joined = "\n".join(lines)
    assert "rpm_limit" not in joined
    assert "router" not in joined
    assert "model_max_budget" not in joined and "soft_budget" not in joined
    assert lines == []  # nothing else is per worker with Redis and no local cache


def test_a_local_response_cache_is_per_worker_even_with_redis() -> None:
    cached = config({"REDIS_URL": "redis://127.0.0.1:6379/0"}, litellm_settings={"cache": True})
    assert any("response cache (type local)" in line for line in per_worker_state(cached, 2))
    shared = config(
        {"REDIS_URL": "redis://127.0.0.1:6379/0"},
        litellm_settings={"cache": True, "cache_params": {"type": "redis"}},
    )
    assert not any("response cache" in line for line in per_worker_state(shared, 2))
