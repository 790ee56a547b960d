"""Alembic environment: always run with a connection handed in by `gateway.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from gateway.store.tables import metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("run migrations through gateway.store.migrate, which passes a connection")
run_with(_connection)
