"""The postgres server's settings: `mcp_server_settings.postgres` of the config file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.config import validation_problems

DSN_ENV = "DATABASE_URL"


class PostgresSettings(BaseModel):
    """Validated settings; unknown keys (host, port, auth_token, ...) are ignored here."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    dsn: str = Field(min_length=1, description="libpq URL, e.g. postgresql://user@host/db")
    allow_writes: bool = False
    statement_timeout_ms: int = Field(default=15_000, ge=100, le=3_600_000)
    max_rows: int = Field(default=500, ge=1, le=100_000)
    max_cell_chars: int = Field(default=500, ge=20, le=100_000)
    role: str | None = Field(
        default=None,
        min_length=1,
        description="a role without privileges to SET LOCAL ROLE to for execute_sql/explain_query",
    )
    pool_min_size: int = Field(default=0, ge=0, le=100)
    pool_max_size: int = Field(default=5, ge=1, le=100)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    allowed_hosts: list[str] | None = None
    auth_token: str | None = None


def parse_settings(settings: Mapping[str, Any]) -> PostgresSettings:
    """Settings from the config section; the DSN falls back to $DATABASE_URL.

    Raises ValueError with a readable message (the CLI prints it and exits 2).
    """
    values = dict(settings)
    if not values.get("dsn"):
        values["dsn"] = os.environ.get(DSN_ENV, "")
    if not values["dsn"]:
        raise ValueError(
            f"postgres: no DSN: set mcp_server_settings.postgres.dsn or the {DSN_ENV} environment variable"
        )
    try:
        return PostgresSettings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc))
        raise ValueError(f"mcp_server_settings.postgres: {problems}") from None
