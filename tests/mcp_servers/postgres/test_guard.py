"""The SQL scanner on its own: what it sees through comments, strings and quoting."""

from __future__ import annotations

import re

import pytest

from mcp_servers.postgres._guard import SqlRejected, check_sql


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 'a; DROP TABLE t' AS s",
        "SELECT $$ ; set_config $$ AS s",
        "SELECT $tag$ pg_read_file('/etc/passwd'); $tag$",
        "SELECT E'it\\'s; fine' AS s",
        "SELECT 1 /* outer /* nested ; */ still comment */",
        "-- leading comment\nSELECT 1;",
        "WITH x AS (SELECT 1) SELECT * FROM x",
        '(SELECT "weird;name" FROM t)',
    ],
)
def test_accepted(sql: str) -> None:
    assert check_sql(sql, allow_writes=False) in {"select", "with"}


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("", "empty"),
        ("-- only a comment", "no statement"),
        ("SELECT 'unterminated", "unterminated string"),
        ("SELECT $$ open", "unterminated dollar-quoted"),
        ("SELECT 1 /* open", "unterminated block comment"),
        ("SELECT 1; SELECT 2", "only one SQL statement"),
        ("SELECT 1 -- c\n; DROP TABLE t", "only one SQL statement"),
        ("ALTER SYSTEM SET fsync = off", "ALTER statements are not accepted"),
        ("select PG_CATALOG.SET_CONFIG('a', 'b', false)", "set_config() is not allowed"),
        ("SELECT pg_try_advisory_lock(1)", "pg_try_advisory_lock() is not allowed"),
        ("SELECT * FROM dblink('x', 'y') AS t(a int)", "dblink() is not allowed"),
    ],
)
def test_refused(sql: str, reason: str) -> None:
    with pytest.raises(SqlRejected, match=re.escape(reason)):
        check_sql(sql, allow_writes=False)


def test_writes_allowed_only_when_enabled() -> None:
    assert check_sql("INSERT INTO t VALUES (1)", allow_writes=True) == "insert"
    with pytest.raises(SqlRejected, match="not a read-only statement"):
        check_sql("INSERT INTO t VALUES (1)", allow_writes=False)
    with pytest.raises(SqlRejected, match="COMMIT statements are not accepted"):
        check_sql("COMMIT", allow_writes=True)
