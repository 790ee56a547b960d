"""`toolrelay migrate` (the Kubernetes migration Job's command) against a fresh PostgreSQL
database of its own: it creates the schema at the newest Alembic head, twice is harmless,
and a database that does not answer is a clear error."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from gateway.store.migrate import alembic_config
from tests.support.components import POSTGRES_DSN, require_component, tcp_port_open
from tests.support.processes import free_port


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def fresh_database() -> Iterator[str]:
    require_component(tcp_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    name = f"toolrelay_migrate_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_DSN).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _version(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        return str(await connection.fetchval("SELECT version_num FROM alembic_version"))
    finally:
        await connection.close()


def migrate(dsn: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "toolrelay", "migrate"],
        env={**os.environ, "DATABASE_URL": dsn},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_brings_a_fresh_database_to_head(fresh_database: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    for _ in range(2):
        result = migrate(fresh_database)
        assert result.returncode == 0, result.stderr
        assert "is at the newest schema" in result.stdout
        assert asyncio.run(_version(fresh_database)) == head


def test_unreachable_database_is_a_clear_error() -> None:
    port = free_port()
    result = migrate(f"postgresql://postgres@127.0.0.1:{port}/absent")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"toolrelay: migrate: postgresql+asyncpg://postgres@127.0.0.1:{port}/absent" in (
        result.stderr
    )


def test_a_new_sqlite_home_is_created(tmp_path: Path) -> None:
    """Without a database URL the SQLite file goes in $TOOLRELAY_HOME, made if missing (the
    gateway does the same at start)."""
    home = tmp_path / "new" / "home"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "toolrelay", "migrate"],
        env={**env, "TOOLRELAY_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (home / "toolrelay.db").exists()
