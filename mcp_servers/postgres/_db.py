"""The connection pool and the one place where asyncpg errors become our errors.

Errors:

    DatabaseError
    ├── DatabaseUnavailable  - cannot connect, or the connection broke (retry later)
    └── QueryFailed          - PostgreSQL (or the driver) rejected the statement
        └── QueryTimedOut    - the statement ran past statement_timeout

How `execute_sql` stays read-only (defence in depth; `_guard.py` is the first layer):
the statement is sent as ONE prepared statement (the extended protocol refuses a second
one), inside `BEGIN READ ONLY` with a transaction-local statement_timeout (and `role`,
when configured) set by a first SELECT, which takes the snapshot so that PostgreSQL itself
refuses a later `SET TRANSACTION READ WRITE`; and the transaction is always rolled back. The pool resets each
connection (RESET ALL, advisory unlocks) when it is released.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import asyncpg
import structlog

from mcp_servers.postgres._settings import PostgresSettings

logger = structlog.get_logger(__name__)

APPLICATION_NAME = "toolrelay-mcp-postgres"


class DatabaseError(Exception):
    """Base of everything `Database` raises."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached; the next call tries again."""


class QueryFailed(DatabaseError):
    """PostgreSQL rejected the statement."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class QueryTimedOut(QueryFailed):
    """The statement was cancelled by statement_timeout."""


@dataclass(frozen=True)
class StatementResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    status: str


_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    asyncpg.exceptions.InvalidPasswordError,
    asyncpg.exceptions.InvalidCatalogNameError,
)


def map_error(exc: BaseException, timeout_ms: int) -> DatabaseError:
    """The single boundary from asyncpg/OS errors to `DatabaseError`."""
    if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
        return QueryTimedOut(
            f"the statement was cancelled after the {timeout_ms} ms statement timeout; "
            "narrow the query (filters, LIMIT) or ask the operator to raise statement_timeout_ms",
            exc.sqlstate,
        )
    if isinstance(exc, _CONNECTION_ERRORS):
        return DatabaseUnavailable(f"database unavailable: {_describe(exc)}")
    if isinstance(exc, asyncpg.PostgresError):
        parts = [f"PostgreSQL error {exc.sqlstate}: {exc.args[0] if exc.args else exc}"]
        for label in ("detail", "hint"):
            value = getattr(exc, label, None)
            if value:
                parts.append(f"{label}: {value}")
        position = getattr(exc, "position", None)
        if position:
            parts.append(f"at character {position}")
        return QueryFailed("; ".join(parts), exc.sqlstate)
    if isinstance(exc, asyncpg.InterfaceError):
        return QueryFailed(f"query rejected by the driver: {exc}")
    return DatabaseError(f"unexpected database error: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _decode_json(conn: Any) -> None:
    """json/jsonb columns as Python values, so results show them as JSON, not quoted strings."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class Database:
    """A lazily created asyncpg pool; a failed connect is retried on the next call."""

    def __init__(self, settings: PostgresSettings) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = anyio.Lock()

    async def close(self) -> None:
        async with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            with anyio.fail_after(5):
                await pool.close()
        except TimeoutError:  # a query is still running: do not wait for it
            pool.terminate()

    async def _get_pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                s = self.settings
                try:
                    self._pool = await asyncpg.create_pool(
                        s.dsn,
                        min_size=s.pool_min_size,
                        max_size=s.pool_max_size,
                        timeout=s.connect_timeout_s,
                        server_settings={"application_name": APPLICATION_NAME},
                        init=_decode_json,
                    )
                except Exception as exc:
                    raise map_error(exc, s.statement_timeout_ms) from exc
                logger.info("postgres pool created", max_size=s.pool_max_size)
            return self._pool

    @asynccontextmanager
    async def _transaction(self, *, read_only: bool, use_role: bool) -> AsyncIterator[Any]:
        """A connection inside a fresh transaction, rolled back unless `read_only` is False
        and the block succeeds."""
        pool = await self._get_pool()
        s = self.settings
        try:
            async with pool.acquire(timeout=s.connect_timeout_s) as conn:
                transaction = conn.transaction(readonly=read_only)
                await transaction.start()
                try:
                    # A SELECT, not SET LOCAL: it takes the transaction's snapshot, after
                    # which PostgreSQL itself refuses `SET TRANSACTION READ WRITE`.
                    timeout = str(int(s.statement_timeout_ms))
                    if use_role and s.role:
                        await conn.execute(
                            "SELECT set_config('statement_timeout', $1, true),"
                            " set_config('role', $2, true)",
                            timeout,
                            s.role,
                        )
                    else:
                        await conn.execute(
                            "SELECT set_config('statement_timeout', $1, true)", timeout
                        )
                    yield conn
                except BaseException:
                    if not conn.is_closed():
                        await transaction.rollback()
                    raise
                if read_only:
                    await transaction.rollback()
                else:
                    await transaction.commit()
        except DatabaseError:
            raise
        except Exception as exc:
            raise map_error(exc, s.statement_timeout_ms) from exc

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """Run one of our own catalog queries, read-only; retried once on a stale connection."""
        for attempt in (1, 2):
            try:
                async with self._transaction(read_only=True, use_role=False) as conn:
                    return list(await conn.fetch(sql, *args))
            except DatabaseUnavailable:
                if attempt == 2:
                    raise
                logger.info("postgres connection failed; retrying once")
        raise AssertionError("unreachable")

    async def run_statement(self, sql: str, *, read_only: bool, max_rows: int) -> StatementResult:
        """Run caller-supplied SQL as one prepared statement; keep at most `max_rows` rows."""
        async with self._transaction(read_only=read_only, use_role=True) as conn:
            statement = await conn.prepare(sql)
            columns = [attribute.name for attribute in statement.get_attributes()]
            if not columns:
                await statement.fetch()
                return StatementResult([], [], False, statement.get_statusmsg() or "")
            cursor = await statement.cursor()
            records: Sequence[Any] = await cursor.fetch(max_rows + 1)
            rows = [tuple(record) for record in records[:max_rows]]
            return StatementResult(
                columns, rows, len(records) > max_rows, statement.get_statusmsg() or ""
            )
