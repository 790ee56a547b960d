"""Apply the Alembic migrations at start (the same versioned schema on SQLite and PostgreSQL).

A database already at `HEAD_REVISION` is left alone without importing Alembic: Alembic, Mako
and Pygments are about 10 MB of a gateway's resident memory, and every start after the first
finds the schema current. The version is read from Alembic's own `alembic_version` table; a
new, older or foreign database goes through `command.upgrade` exactly as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision under migrations/versions; a new migration changes it (a test compares
# it with Alembic's head, so the two cannot drift apart).
HEAD_REVISION = "0004"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
# Several gateway instances may start together against one PostgreSQL; only one migrates.
_PG_MIGRATION_LOCK = 0x7472_6B65  # "trke"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def current_revisions(connection: Connection) -> set[str]:
    """The revisions the database is at (none for a database Alembic never touched)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return {str(row[0]) for row in rows}


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Held to the end of the transaction: an instance that waited here sees the version
        # the migrating one committed.
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    if current_revisions(connection) == {HEAD_REVISION}:
        return
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
