"""What `--workers N` shares between worker processes, and what each keeps to itself.

Every worker builds its own app (its own ledger, router state, cache and spend writer). With
Redis configured, rate limits, budgets and their reservations, the router's cooldowns,
in-flight counts and usage, key invalidations and the spend stream go through Redis exactly as
they do between replicas, so N workers behave as one gateway. Without Redis each of those is
counted per worker; start-up says so in one warning (`per_worker_state`), with the factor by
which limits are multiplied, rather than pretending the workers agree.

What stays per worker even with Redis is listed too: the local response cache (a miss on the
other workers, never a wrong answer).
"""

from __future__ import annotations

from gateway.config import LoadedConfig
from gateway.spend.maintenance import DEFAULT_INTERVAL_SECONDS as REFRESH_SECONDS


def per_worker_state(config: LoadedConfig, workers: int) -> list[str]:
    """One line per piece of state the workers do not share; empty for one worker."""
    if workers <= 1:
        return []
    found: list[str] = []
    if not config.redis_url:
        found += [
            "rpm_limit, tpm_limit and max_parallel_requests of keys, teams and users are "
            f"counted per worker: up to {workers}x the configured limit is admitted",
            "max_budget: each worker reserves and counts spend on its own ledger and reads "
            f"the others' from the database every {REFRESH_SECONDS:.0f}s, so spend can pass a "
            f"budget by what the other {workers - 1} worker(s) admit meanwhile",
            "router: cooldowns, in-flight counts and deployment rpm/tpm are per worker "
            f"(deployment rpm/tpm limits become up to {workers}x; a failing deployment is "
            "cooled down by each worker separately)",
            "key, team and user changes made through one worker reach the others within "
            f"{REFRESH_SECONDS:.0f}s (a deleted or blocked key still works there until then)",
            "model_max_budget windows and the proxy-wide max_budget are counted per worker "
            f"(each from the spend logs): up to {workers}x the budget",
            f"soft_budget alerts are sent once per window per worker (up to {workers} times)",
        ]
    settings = config.file.litellm_settings
    cache_type = (settings.cache_params or {}).get("type", "local")
    if settings.cache and cache_type == "local":
        found.append(
            "response cache (type local) is per worker: a response cached by one worker is a "
            "miss on the others; set cache_params.type: redis to share it"
        )
    return found
