"""Persistent storage for keys, teams, users, end users and spend (SQLite or PostgreSQL).

The schema is defined once in `tables` and created by Alembic migrations at start, so both
databases always have the same tables.
"""

from gateway.store.database import (
    Database,
    StoreUnavailableError,
    create_database,
    database_url_for,
    default_data_dir,
    migrate_database,
    open_database,
)

__all__ = [
    "Database",
    "StoreUnavailableError",
    "create_database",
    "database_url_for",
    "default_data_dir",
    "migrate_database",
    "open_database",
]
