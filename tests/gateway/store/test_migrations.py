"""Migrations create the same schema on SQLite and PostgreSQL, and re-running them is a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from gateway.responses_api.store import stored_responses
from gateway.store import database_url_for, open_database, tables
from gateway.store.database import create_engine_for, default_data_dir
from gateway.store.migrate import HEAD_REVISION, alembic_config, current_revisions, migrate


@pytest.mark.anyio
async def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    url = database_url_for(database_url, Path("."))
    for _ in range(2):
        db = await open_database(url)
        try:
            async with db.engine.connect() as connection:
                names = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
                version = (
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar()
        finally:
            await db.close()
        assert {t.name for t in tables.metadata.sorted_tables} <= names
        assert stored_responses.name in names
        # the newest revision, whichever it is (several branches add revisions)
        assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    assert database_url_for(None, tmp_path) == f"sqlite+aiosqlite:///{tmp_path}/toolrelay.db"
    assert database_url_for("postgres://u:p@h:5433/db?sslmode=disable", tmp_path) == (
        "postgresql+asyncpg://u:p@h:5433/db"
    )
    assert default_data_dir({"TOOLRELAY_HOME": str(tmp_path)}) == tmp_path


@pytest.mark.anyio
async def test_sqlite_store_is_created_in_a_new_data_dir(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    db = await open_database(database_url_for(None, home))
    await db.close()
    assert (home / "toolrelay.db").exists()


def test_the_head_revision_constant_is_alembics_head() -> None:
    """Start-up skips Alembic when the database is at `HEAD_REVISION`: a new migration must
    move the constant, or the gateway would run on a schema without it."""
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


@pytest.mark.anyio
async def test_an_older_database_is_migrated_to_head(database_url: str) -> None:
    url = database_url_for(database_url, Path("."))
    engine = create_engine_for(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade_to_first_revision)
        async with engine.connect() as connection:
            assert await connection.run_sync(current_revisions) == {"0001"}
        await migrate(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(current_revisions) == {HEAD_REVISION}
            names = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        assert stored_responses.name in names
    finally:
        await engine.dispose()


def _downgrade_to_first_revision(connection: Connection) -> None:
    config = alembic_config(connection)
    command.upgrade(config, "head")
    command.downgrade(config, "0001")
