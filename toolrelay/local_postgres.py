"""Find a local PostgreSQL that `toolrelay up` can hand to the postgres MCP server.

Only a server that lets us in without a password on 127.0.0.1:5432 counts: first as the
current OS user (Homebrew and Postgres.app make that user the superuser), then as
`postgres` (Debian's and Docker's trust setups). The database is `postgres`, which every
cluster has. Anything that needs a password is left to MCP_POSTGRES_DSN or DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass

import asyncpg

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5432
DATABASE = "postgres"
PROBE_TIMEOUT_S = 1.0


def candidate_users() -> list[str]:
    users = []
    # No passwd entry for this uid (some containers) leaves only `postgres`.
    with contextlib.suppress(KeyError, OSError):
        users.append(getpass.getuser())
    if "postgres" not in users:
        users.append("postgres")
    return users


def candidate_dsns(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    return [f"postgresql://{user}@{host}:{port}/{DATABASE}" for user in candidate_users()]


async def _answers(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=PROBE_TIMEOUT_S)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return False
    await connection.close()
    return True


def find_local_postgres(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str | None:
    """The first candidate DSN a server accepts without a password, or None."""
    for dsn in candidate_dsns(host, port):
        if asyncio.run(_answers(dsn)):
            return dsn
    return None
