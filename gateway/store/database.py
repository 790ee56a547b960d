"""Where the database is and how to connect: SQLite file by default, PostgreSQL when configured."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.store.migrate import migrate

log = structlog.get_logger("toolrelay.store")

SQLITE_FILENAME = "toolrelay.db"
# Errors that mean "the database is not reachable right now", as opposed to a bug.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    DBAPIError,
    SQLAlchemyError,
    OSError,
    TimeoutError,
)


# SQLite raises OverflowError for integers beyond 64 bits.
REFUSED_ERRORS: tuple[type[BaseException], ...] = (
    DataError,
    IntegrityError,
    ProgrammingError,
    OverflowError,
)
# SQLSTATE classes of a refused row: 22 data exception, 23 integrity, 42 syntax/access.
_REFUSED_SQLSTATE_CLASSES = frozenset({"22", "23", "42"})


def refused_row(exc: BaseException) -> bool:
    """True when the database refused the data itself, which is not an outage: retrying
    cannot help. The asyncpg dialect reports these as plain DBAPIError: the SQLSTATE decides."""
    if isinstance(exc, REFUSED_ERRORS):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if code is None and orig is not None:
            code = getattr(orig.__cause__, "sqlstate", None)
        return isinstance(code, str) and code[:2] in _REFUSED_SQLSTATE_CLASSES
    return False


class StoreUnavailableError(Exception):
    """The database could not be reached; callers decide whether to degrade or refuse."""


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("TOOLRELAY_HOME") or Path.home() / ".toolrelay")


def database_url_for(configured: str | None, data_dir: Path) -> str:
    """The SQLAlchemy async URL: the configured PostgreSQL URL, else a SQLite file."""
    if not configured:
        return f"sqlite+aiosqlite:///{data_dir / SQLITE_FILENAME}"
    url = make_url(configured)
    drivers = {"postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg"}
    drivers["sqlite"] = "sqlite+aiosqlite"
    driver = drivers.get(url.drivername, url.drivername)
    query = {k: v for k, v in url.query.items() if k not in {"sslmode", "schema"}}
    return url.set(drivername=driver, query=query).render_as_string(hide_password=False)


# SQLite's memory stays bounded under load (bench/memory_growth.py, 100k requests: the gateway
# grew +78-83%, all of it SQLite's, in the aiosqlite thread's malloc arena):
# - Python's sqlite3 keeps the last 128 distinct statements of a connection prepared (with
#   their last bound values). A spend batch of N rows is one multi-row INSERT whose text
#   depends on N, about 3 kB prepared per row (1.5 MB for 500 rows), and at most flushes N
#   differs: ~97 MB of prepared INSERTs kept. None is kept: what repeats is the model poll's
#   two small SELECTs and, at saturation, a full 500-row INSERT, whose preparing costs
#   ~7 us a row on the aiosqlite thread (off the event loop); a cache of 8 still left the
#   RSS swinging by 9 MB as INSERTs of other sizes came and went.
# - Each pooled aiosqlite connection is a thread with its own page cache (up to 2 MB) and
#   malloc arena, and SQLAlchemy kept up to 5: one opened and kept whenever two users
#   overlapped (a spend flush and the model poll). One is kept; an overlap opens another that
#   is closed when returned (up to the same 15 at once as SQLAlchemy's default pool).
SQLITE_CACHED_STATEMENTS = 0
SQLITE_POOL_SIZE = 1
SQLITE_MAX_OVERFLOW = 14


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@dataclass
class Database:
    engine: AsyncEngine
    url: str
    reachable: bool = True
    last_error: str | None = field(default=None)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def mark(self, ok: bool, error: BaseException | None = None) -> None:
        if ok and not self.reachable:
            log.info("database reachable again", database=self.describe())
        if not ok and self.reachable:
            log.warning("database unreachable", database=self.describe(), error=repr(error))
        self.reachable = ok
        self.last_error = None if ok else repr(error)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except UNAVAILABLE_ERRORS as exc:
            self.mark(False, exc)
            return False
        self.mark(True)
        return True

    async def close(self) -> None:
        await self.engine.dispose()


def create_engine_for(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # `pool_size` only exists for a file's pool (an in-memory database has one connection)
        in_memory = make_url(url).database in (None, "", ":memory:")
        engine = create_async_engine(
            url,
            connect_args={"timeout": 30, "cached_statements": SQLITE_CACHED_STATEMENTS},
            **(
                {}
                if in_memory
                else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_MAX_OVERFLOW}
            ),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        pool_timeout=5,
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def create_database(url: str) -> Database:
    """No connection yet: that happens in `migrate_database` (the app's lifespan)."""
    return Database(engine=create_engine_for(url), url=url)


async def migrate_database(database: Database) -> None:
    """Create the SQLite directory if needed and migrate to the newest schema; raises
    `StoreUnavailableError` when the database is unreachable."""
    url = make_url(database.url)
    if database.dialect == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        await migrate(database.engine)
    except UNAVAILABLE_ERRORS as exc:
        database.mark(False, exc)
        raise StoreUnavailableError(f"cannot open {database.describe()}: {exc}") from exc
    database.mark(True)
    log.info("database ready", database=database.describe())


async def open_database(url: str) -> Database:
    database = create_database(url)
    try:
        await migrate_database(database)
    except StoreUnavailableError:
        await database.close()
        raise
    return database
