"""`toolrelay migrate`: bring the gateway's database to the newest schema, then exit.

The gateway migrates at start too (under an advisory lock); a separate step lets a
Kubernetes Job or a compose one-shot finish the migration before any new gateway replica
rolls out, so a slow migration never fails readiness probes.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from gateway.config import LoadedConfig
from gateway.store.database import (
    StoreUnavailableError,
    create_database,
    database_url_for,
    default_data_dir,
    migrate_database,
)


class MigrationError(Exception):
    """The database could not be reached or migrated; the message says which and why."""


async def _migrate(url: str) -> None:
    # the gateway's own start-up step: it also creates a new SQLite file's directory
    database = create_database(url)
    try:
        await migrate_database(database)
    finally:
        await database.engine.dispose()


def run_migrations(config: LoadedConfig) -> str:
    """Migrate the configured database (DATABASE_URL wins, as for the gateway); return it,
    password hidden, for the log line."""
    url = database_url_for(config.file.general_settings.database_url, default_data_dir())
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        asyncio.run(_migrate(url))
    except (OSError, SQLAlchemyError, StoreUnavailableError) as exc:
        raise MigrationError(f"{shown}: {exc}") from exc
    return shown
