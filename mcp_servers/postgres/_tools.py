"""The eight postgres tools. Every failure becomes a ToolError (isError) in `tool_errors`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from mcp_servers.postgres import _catalog as catalog
from mcp_servers.postgres._db import Database, DatabaseError
from mcp_servers.postgres._format import OutputFormat, render_rows, row_summary
from mcp_servers.postgres._guard import SqlRejected, check_sql

SchemaName = Annotated[
    str,
    Field(min_length=1, max_length=63, description="Schema name (not quoted). Default: public."),
]
TableName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=63,
        description="Table or view name, not quoted and without schema.",
    ),
]
SqlText = Annotated[str, Field(min_length=1, max_length=100_000, description="One SQL statement.")]

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


def one_line(fn: Callable[..., Any]) -> str:
    """A tool description from a docstring, without the source's line breaks."""
    return " ".join((fn.__doc__ or "").split())


@contextmanager
def tool_errors() -> Iterator[None]:
    """The one place where our errors become MCP tool errors the model can read."""
    try:
        yield
    except SqlRejected as exc:
        raise ToolError(f"refused: {exc}") from exc
    except DatabaseError as exc:
        raise ToolError(str(exc)) from exc


def register_tools(server: MCPServer[Any], db: Database) -> None:
    settings = db.settings

    async def relation_oid(schema: str, table: str) -> int:
        rows = await db.fetch(catalog.RELATION_OID, schema, table)
        if not rows:
            raise ToolError(
                f"table {schema}.{table} not found; call list_tables(schema={schema!r}) to see what exists"
            )
        return int(rows[0]["oid"])

    def table_of(rows: list[Any], empty: str) -> str:
        if not rows:
            return empty
        columns = list(rows[0].keys())
        return render_rows(columns, [tuple(r) for r in rows], max_chars=settings.max_cell_chars)

    async def list_databases() -> str:
        """List the databases on the server (name, owner, encoding, size; `current` marks the one this server is connected to)."""
        with tool_errors():
            return table_of(await db.fetch(catalog.LIST_DATABASES), "no databases")

    async def list_schemas(
        include_system: Annotated[
            bool, Field(description="Also list pg_catalog, information_schema and pg_toast.")
        ] = False,
    ) -> str:
        """List the schemas of the current database with their owner and number of tables/views."""
        with tool_errors():
            return table_of(await db.fetch(catalog.LIST_SCHEMAS, include_system), "no schemas")

    async def list_tables(
        schema: SchemaName = "public",
        include_views: Annotated[
            bool, Field(description="Also list views and materialized views.")
        ] = True,
    ) -> str:
        """List the tables (and views) of one schema with kind, estimated row count, size and comment."""
        kinds = ["r", "p", "f"] + (["v", "m"] if include_views else [])
        with tool_errors():
            exists = await db.fetch(catalog.SCHEMA_EXISTS, schema)
            if not exists[0][0]:
                raise ToolError(
                    f"schema {schema!r} not found; call list_schemas to see what exists"
                )
            rows = await db.fetch(catalog.LIST_TABLES, schema, kinds)
            return table_of(rows, f"schema {schema} has no tables")

    async def describe_table(table: TableName, schema: SchemaName = "public") -> str:
        """Describe a table's columns: name, SQL type, nullability, default and comment."""
        with tool_errors():
            oid = await relation_oid(schema, table)
            columns = await db.fetch(catalog.DESCRIBE_COLUMNS, oid)
            comment = (await db.fetch(catalog.TABLE_COMMENT, oid))[0][0]
            head = f"table {schema}.{table}" + (f" -- {comment}" if comment else "")
            return head + "\n" + table_of(columns, "(no columns)")

    async def get_table_constraints(table: TableName, schema: SchemaName = "public") -> str:
        """List a table's constraints (primary key, unique, foreign keys, checks) and its indexes."""
        with tool_errors():
            oid = await relation_oid(schema, table)
            constraints = await db.fetch(catalog.CONSTRAINTS, oid)
            indexes = await db.fetch(catalog.INDEXES, oid)
            return (
                f"constraints of {schema}.{table}:\n{table_of(constraints, '(none)')}\n\n"
                f"indexes of {schema}.{table}:\n{table_of(indexes, '(none)')}"
            )

    async def get_table_stats(table: TableName, schema: SchemaName = "public") -> str:
        """Size and activity statistics for a table: row estimates, live/dead rows, scans, last vacuum/analyze, sizes."""
        with tool_errors():
            oid = await relation_oid(schema, table)
            row = (await db.fetch(catalog.TABLE_STATS, oid))[0]
            lines = [f"statistics of {schema}.{table}:"]
            lines += [f"{key}: {'NULL' if value is None else value}" for key, value in row.items()]
            return "\n".join(lines)

    async def execute_sql(
        sql: SqlText,
        format: Annotated[
            Literal["table", "json"],
            Field(description="'table' (compact, default) or 'json' (array of row objects)."),
        ] = "table",
        max_rows: Annotated[
            int | None,
            Field(
                ge=1,
                le=100_000,
                description="Return at most this many rows (capped by the server).",
            ),
        ] = None,
    ) -> str:
        with tool_errors():
            keyword = check_sql(sql, allow_writes=settings.allow_writes)
            cap = min(max_rows or settings.max_rows, settings.max_rows)
            result = await db.run_statement(sql, read_only=not settings.allow_writes, max_rows=cap)
            if not result.columns:
                return f"OK: {result.status or keyword.upper()}"
            output: OutputFormat = format
            body = render_rows(
                result.columns, result.rows, output=output, max_chars=settings.max_cell_chars
            )
            return (
                body
                + "\n"
                + row_summary(len(result.rows), truncated=result.truncated, max_rows=cap)
            )

    async def explain_query(
        sql: Annotated[
            str,
            Field(
                min_length=1,
                max_length=100_000,
                description="The statement to explain (without EXPLAIN).",
            ),
        ],
        analyze: Annotated[
            bool,
            Field(
                description="Run the query to report real timings (EXPLAIN ANALYZE). Read-only statements only."
            ),
        ] = False,
        format: Annotated[Literal["text", "json"], Field(description="Plan format.")] = "text",
    ) -> str:
        """Show PostgreSQL's execution plan for one statement. Never changes data: the plan is
        computed in a read-only transaction that is rolled back."""
        with tool_errors():
            keyword = check_sql(sql, allow_writes=not analyze)
            if keyword == "explain":
                raise ToolError("pass the statement itself, without EXPLAIN")
            options = [f"FORMAT {format.upper()}"] + (["ANALYZE", "BUFFERS"] if analyze else [])
            result = await db.run_statement(
                f"EXPLAIN ({', '.join(options)}) {sql.strip().rstrip(';')}",
                read_only=True,
                max_rows=10_000,
            )
            # FORMAT JSON arrives decoded (a json column); text plans are one line per row.
            lines = [
                row[0] if isinstance(row[0], str) else json.dumps(row[0]) for row in result.rows
            ]
            return "\n".join(lines)

    mode = (
        "Writes are ENABLED: INSERT/UPDATE/DELETE/DDL run and are committed."
        if settings.allow_writes
        else "Read-only: only SELECT, WITH, VALUES, TABLE, SHOW and EXPLAIN are accepted; the "
        "statement runs in a READ ONLY transaction that is rolled back."
    )
    execute_description = (
        "Run ONE SQL statement against the PostgreSQL database and return the rows. "
        f"{mode} Transaction control, SET, DO, COPY and side-effecting functions are refused. "
        f"Statement timeout {settings.statement_timeout_ms} ms; at most {settings.max_rows} rows are "
        "returned (a note says when rows were cut). Output is a pipe table with NULL for nulls, or JSON."
    )

    for fn in (
        list_databases,
        list_schemas,
        list_tables,
        describe_table,
        get_table_constraints,
        get_table_stats,
    ):
        server.add_tool(
            fn, description=one_line(fn), annotations=READ_ONLY, structured_output=False
        )
    server.add_tool(
        execute_sql,
        description=execute_description,
        annotations=ToolAnnotations(
            read_only_hint=not settings.allow_writes,
            destructive_hint=settings.allow_writes,
            open_world_hint=False,
        ),
        structured_output=False,
    )
    server.add_tool(
        explain_query,
        description=one_line(explain_query),
        annotations=READ_ONLY,
        structured_output=False,
    )
