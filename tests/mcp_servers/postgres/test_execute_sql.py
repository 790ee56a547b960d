"""execute_sql and explain_query: results, caps, timeouts, and every read-only escape.

Each escape test asserts the refusal AND that nothing changed: the sentinel table still
exists with its one row, and server-wide state (backends, large objects, files) is intact.
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest
from mcp import Client

from mcp_servers.postgres import Database, parse_settings
from mcp_servers.postgres._db import QueryFailed
from tests.mcp_servers.postgres.conftest import Fixture, call, pg_client, sentinel_state
from tests.support.components import POSTGRES_DSN

pytestmark = pytest.mark.anyio


async def test_select_as_table_with_nulls_and_escaped_cells(client: Client, pg: Fixture) -> None:
    is_error, text = await call(
        client,
        "execute_sql",
        {"sql": f"SELECT id, name, note FROM {pg.schema}.items WHERE id <= 2 ORDER BY id"},
    )
    assert not is_error, text
    assert text.splitlines() == [
        "| id | name | note |",
        "|---|---|---|",
        "| 1 | item 1 | pipe \\| and\\nnewline |",
        "| 2 | item 2 | NULL |",
        "2 rows",
    ]


async def test_select_as_json(client: Client, pg: Fixture) -> None:
    is_error, text = await call(
        client,
        "execute_sql",
        {"sql": f"SELECT id, price, note FROM {pg.schema}.items WHERE id = 2", "format": "json"},
    )
    assert not is_error, text
    body, summary = text.rsplit("\n", 1)
    assert json.loads(body) == [{"id": 2, "price": "2.00", "note": None}]
    assert summary == "1 row"


async def test_json_columns_stay_json(client: Client) -> None:
    sql = """SELECT '{"a": [1, 2]}'::jsonb AS doc, NULL::json AS nothing"""
    _, text = await call(client, "execute_sql", {"sql": sql})
    assert '| {"a": [1, 2]} | NULL |' in text
    _, text = await call(client, "execute_sql", {"sql": sql, "format": "json"})
    assert json.loads(text.rsplit("\n", 1)[0]) == [{"doc": {"a": [1, 2]}, "nothing": None}]


async def test_row_cap_cuts_and_says_so(client: Client, pg: Fixture) -> None:
    _, text = await call(
        client, "execute_sql", {"sql": f"SELECT id FROM {pg.schema}.items ORDER BY id"}
    )
    lines = text.splitlines()
    assert lines[2] == "| 1 |" and lines[11] == "| 10 |" and len(lines) == 13
    assert lines[-1].startswith("10 rows shown; more rows exist (cut at the row cap of 10)")
    # A caller may ask for fewer rows, never for more than the server's cap.
    _, text = await call(
        client, "execute_sql", {"sql": f"SELECT id FROM {pg.schema}.items", "max_rows": 3}
    )
    assert "3 rows shown; more rows exist (cut at the row cap of 3)" in text
    _, text = await call(
        client, "execute_sql", {"sql": f"SELECT id FROM {pg.schema}.items", "max_rows": 50}
    )
    assert "cut at the row cap of 10" in text


async def test_long_cells_are_cut(pg: Fixture) -> None:
    async with pg_client(max_cell_chars=20) as client:
        _, text = await call(client, "execute_sql", {"sql": "SELECT repeat('x', 100) AS v"})
    assert f"| {'x' * 20}…[80 more chars] |" in text


async def test_show_and_values_are_read_only_statements(client: Client) -> None:
    is_error, text = await call(client, "execute_sql", {"sql": "SHOW transaction_read_only"})
    assert not is_error and "| on |" in text
    is_error, text = await call(client, "execute_sql", {"sql": "VALUES (1, 'a');"})
    assert not is_error and "| 1 | a |" in text


async def test_sql_errors_are_tool_errors_with_position(client: Client) -> None:
    is_error, text = await call(client, "execute_sql", {"sql": "SELECT nope FROM pg_class"})
    assert is_error
    assert "PostgreSQL error 42703" in text and 'column "nope" does not exist' in text
    assert "at character 8" in text


async def test_statement_timeout(pg: Fixture) -> None:
    async with pg_client(statement_timeout_ms=200) as client:
        is_error, text = await call(
            client, "execute_sql", {"sql": "SELECT count(*) FROM generate_series(1, 1000000000)"}
        )
        assert is_error
        assert "cancelled after the 200 ms statement timeout" in text
        # The pooled connection is fine afterwards.
        is_error, text = await call(client, "execute_sql", {"sql": "SELECT 1 AS one"})
        assert not is_error and "| 1 |" in text


ESCAPES = [
    pytest.param(
        "SELECT 1; DROP TABLE {s}.sentinel", "only one SQL statement", id="two-statements"
    ),
    pytest.param(
        "COMMIT; DROP TABLE {s}.sentinel", "only one SQL statement", id="commit-then-drop"
    ),
    pytest.param("COMMIT", "COMMIT statements are not accepted", id="commit"),
    pytest.param("ROLLBACK", "ROLLBACK statements are not accepted", id="rollback"),
    pytest.param(
        "SET TRANSACTION READ WRITE", "SET statements are not accepted", id="set-read-write"
    ),
    pytest.param(
        "SET default_transaction_read_only = off",
        "SET statements are not accepted",
        id="set-default-ro",
    ),
    pytest.param("RESET ALL", "RESET statements are not accepted", id="reset"),
    pytest.param(
        "DO $$BEGIN DROP TABLE {s}.sentinel; END$$", "DO statements are not accepted", id="do"
    ),
    pytest.param("DROP TABLE {s}.sentinel", "DROP is not a read-only statement", id="drop"),
    pytest.param("DELETE FROM {s}.sentinel", "DELETE is not a read-only statement", id="delete"),
    pytest.param(
        "  /* hi */ (TRUNCATE {s}.sentinel)", "TRUNCATE is not a read-only", id="comment-paren"
    ),
    pytest.param(
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "set_config() is not allowed",
        id="set_config",
    ),
    pytest.param(
        "SELECT pg_catalog.\"set_config\"('transaction_read_only', 'off', true)",
        "set_config() is not allowed",
        id="set_config-quoted-qualified",
    ),
    pytest.param(
        "SELECT U&\"set\\005fconfig\"('a', 'b', false)", "Unicode-escaped", id="unicode-ident"
    ),
    pytest.param("SELECT lo_import('/etc/hostname')", "lo_import() is not allowed", id="lo_import"),
    pytest.param(
        "SELECT pg_read_file('/etc/hostname')", "pg_read_file() is not allowed", id="pg_read_file"
    ),
    pytest.param(
        "SELECT dblink_exec('dbname=test', 'DROP TABLE {s}.sentinel')",
        "dblink_exec() is not allowed",
        id="dblink",
    ),
    pytest.param(
        "SELECT pg_advisory_lock(1)", "pg_advisory_lock() is not allowed", id="advisory-lock"
    ),
    pytest.param("SELECT pg_stat_reset()", "pg_stat_reset() is not allowed", id="stat-reset"),
    pytest.param("SELECT pg_reload_conf()", "pg_reload_conf() is not allowed", id="reload-conf"),
    pytest.param(
        "SELECT query_to_xml('DROP TABLE {s}.sentinel', true, true, '')",
        "query_to_xml() is not allowed",
        id="query_to_xml",
    ),
]


@pytest.mark.parametrize(("sql", "reason"), ESCAPES)
async def test_escape_is_refused_and_nothing_changes(
    client: Client, pg: Fixture, sql: str, reason: str
) -> None:
    is_error, text = await call(client, "execute_sql", {"sql": sql.format(s=pg.schema)})
    assert is_error
    assert reason in text
    assert await sentinel_state(pg.schema) == (True, [42])


async def test_copy_to_program_is_refused_and_runs_nothing(client: Client, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    is_error, text = await call(
        client, "execute_sql", {"sql": f"COPY (SELECT 1) TO PROGRAM 'touch {marker}'"}
    )
    assert is_error and "COPY statements are not accepted" in text
    assert not marker.exists()


async def test_terminate_backend_is_refused_and_victim_survives(client: Client) -> None:
    victim = await asyncpg.connect(POSTGRES_DSN)
    try:
        pid = await victim.fetchval("SELECT pg_backend_pid()")
        for sql in (f"SELECT pg_terminate_backend({pid})", f"SELECT pg_cancel_backend({pid})"):
            is_error, text = await call(client, "execute_sql", {"sql": sql})
            assert is_error and "is not allowed: it has side effects" in text
        assert await victim.fetchval("SELECT 1") == 1
    finally:
        await victim.close()


async def test_lo_import_creates_no_large_object(client: Client) -> None:
    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        before = await conn.fetchval("SELECT count(*) FROM pg_largeobject_metadata")
        is_error, _ = await call(
            client, "execute_sql", {"sql": "SELECT lo_import('/etc/hostname')"}
        )
        assert is_error
        assert await conn.fetchval("SELECT count(*) FROM pg_largeobject_metadata") == before
    finally:
        await conn.close()


async def test_function_name_inside_a_string_is_not_a_call(client: Client) -> None:
    is_error, text = await call(
        client, "execute_sql", {"sql": "SELECT 'pg_terminate_backend' AS word"}
    )
    assert not is_error and "| pg_terminate_backend |" in text


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(
            "WITH d AS (DELETE FROM {s}.sentinel RETURNING *) SELECT * FROM d", id="writing-cte"
        ),
        pytest.param("SELECT nextval('{s}.seq')", id="nextval"),
        pytest.param("SELECT * INTO {s}.copied FROM {s}.sentinel", id="select-into"),
        pytest.param("EXPLAIN ANALYZE DELETE FROM {s}.sentinel", id="explain-analyze-delete"),
    ],
)
async def test_writes_that_pass_the_keyword_check_hit_the_read_only_transaction(
    client: Client, pg: Fixture, sql: str
) -> None:
    is_error, text = await call(client, "execute_sql", {"sql": sql.format(s=pg.schema)})
    assert is_error
    assert "PostgreSQL error 25006" in text and "read-only transaction" in text
    assert await sentinel_state(pg.schema) == (True, [42])
    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        assert await conn.fetchval("SELECT to_regclass($1)", f"{pg.schema}.copied") is None
        assert await conn.fetchval(f"SELECT last_value FROM {pg.schema}.seq") == 1
        assert not await conn.fetchval(f"SELECT is_called FROM {pg.schema}.seq")
    finally:
        await conn.close()


async def test_database_layer_alone_refuses_two_statements_and_writes(pg: Fixture) -> None:
    """Below the SQL checks: the prepared statement and the READ ONLY transaction still hold."""
    db = Database(parse_settings({"dsn": POSTGRES_DSN}))
    try:
        with pytest.raises(
            QueryFailed, match="cannot insert multiple commands into a prepared statement"
        ):
            await db.run_statement(
                f"COMMIT; DROP TABLE {pg.schema}.sentinel", read_only=True, max_rows=5
            )
        with pytest.raises(QueryFailed) as caught:
            await db.run_statement(f"DROP TABLE {pg.schema}.sentinel", read_only=True, max_rows=5)
        assert caught.value.sqlstate == "25006"
        with pytest.raises(QueryFailed) as caught:
            await db.run_statement("SET TRANSACTION READ WRITE", read_only=True, max_rows=5)
        assert caught.value.sqlstate == "25001"  # must be set before any query
        assert await sentinel_state(pg.schema) == (True, [42])
    finally:
        await db.close()


async def test_configured_role_without_privileges_is_used(pg: Fixture) -> None:
    async with pg_client(role=pg.role) as client:
        is_error, text = await call(client, "execute_sql", {"sql": "SELECT current_user AS who"})
        assert not is_error and f"| {pg.role} |" in text
        is_error, text = await call(
            client, "execute_sql", {"sql": f"SELECT * FROM {pg.schema}.sentinel"}
        )
        assert is_error and "PostgreSQL error 42501" in text and "permission denied" in text


async def test_writes_when_enabled_are_committed_but_escapes_still_refused(pg: Fixture) -> None:
    async with pg_client(allow_writes=True) as client:
        is_error, text = await call(
            client, "execute_sql", {"sql": f"INSERT INTO {pg.schema}.sentinel VALUES (7)"}
        )
        assert not is_error and text == "OK: INSERT 0 1"
        assert await sentinel_state(pg.schema) == (True, [42, 7])
        for sql in (
            "COMMIT",
            "SET default_transaction_read_only = off",
            "SELECT pg_terminate_backend(1)",
        ):
            is_error, _ = await call(client, "execute_sql", {"sql": sql})
            assert is_error
        is_error, text = await call(
            client, "execute_sql", {"sql": f"DELETE FROM {pg.schema}.sentinel WHERE v = 7"}
        )
        assert not is_error and text == "OK: DELETE 1"
    assert await sentinel_state(pg.schema) == (True, [42])


async def test_explain_query_text_and_json(client: Client, pg: Fixture) -> None:
    is_error, text = await call(
        client, "explain_query", {"sql": f"SELECT * FROM {pg.schema}.items WHERE id = 1"}
    )
    assert not is_error, text
    assert "Scan" in text and "items" in text
    is_error, text = await call(
        client,
        "explain_query",
        {"sql": f"SELECT count(*) FROM {pg.schema}.items", "analyze": True, "format": "json"},
    )
    assert not is_error, text
    plan = json.loads(text)
    assert "Execution Time" in plan[0]


async def test_explain_of_a_write_plans_it_without_running_it(client: Client, pg: Fixture) -> None:
    is_error, text = await call(
        client, "explain_query", {"sql": f"DELETE FROM {pg.schema}.sentinel"}
    )
    assert not is_error and "Delete on" in text
    is_error, text = await call(
        client, "explain_query", {"sql": f"DELETE FROM {pg.schema}.sentinel", "analyze": True}
    )
    assert is_error and "DELETE is not a read-only statement" in text
    is_error, text = await call(
        client, "explain_query", {"sql": f"SELECT 1; DROP TABLE {pg.schema}.sentinel"}
    )
    assert is_error and "only one SQL statement" in text
    assert await sentinel_state(pg.schema) == (True, [42])
