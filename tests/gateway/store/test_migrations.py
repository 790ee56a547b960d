"""Migrations create the same schema on SQLite and PostgreSQL, and re-running them is a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from gateway.store import database_url_for, open_database, tables
from gateway.store.database import default_data_dir


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
        assert version == "0002"


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
