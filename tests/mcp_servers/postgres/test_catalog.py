"""The metadata tools against the real PostgreSQL."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.mcp_servers.postgres.conftest import Fixture, call

pytestmark = pytest.mark.anyio


async def test_lists_tools_with_descriptions_and_schemas(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {
        "list_databases",
        "list_schemas",
        "list_tables",
        "describe_table",
        "get_table_constraints",
        "get_table_stats",
        "execute_sql",
        "explain_query",
    }
    assert "READ ONLY" in (tools["execute_sql"].description or "")
    assert tools["describe_table"].input_schema["required"] == ["table"]
    assert tools["execute_sql"].input_schema["properties"]["format"]["enum"] == ["table", "json"]
    assert tools["list_tables"].annotations is not None
    assert tools["list_tables"].annotations.read_only_hint is True


async def test_list_databases_marks_current(client: Client) -> None:
    is_error, text = await call(client, "list_databases")
    assert not is_error
    line = next(line for line in text.splitlines() if line.startswith("| test |"))
    assert line.endswith("| true |")


async def test_list_schemas_hides_system_unless_asked(client: Client, pg: Fixture) -> None:
    _, text = await call(client, "list_schemas")
    assert f"| {pg.schema} |" in text
    assert "pg_catalog" not in text
    _, text = await call(client, "list_schemas", {"include_system": True})
    assert "| pg_catalog |" in text


async def test_list_tables_with_and_without_views(client: Client, pg: Fixture) -> None:
    is_error, text = await call(client, "list_tables", {"schema": pg.schema})
    assert not is_error, text
    assert "| items | table |" in text
    assert "things for sale" in text
    assert "| cheap_items | view |" in text
    _, text = await call(client, "list_tables", {"schema": pg.schema, "include_views": False})
    assert "cheap_items" not in text


async def test_list_tables_unknown_schema_is_a_tool_error(client: Client) -> None:
    is_error, text = await call(client, "list_tables", {"schema": "no_such_schema_x"})
    assert is_error
    assert "schema 'no_such_schema_x' not found" in text


async def test_describe_table(client: Client, pg: Fixture) -> None:
    is_error, text = await call(client, "describe_table", {"schema": pg.schema, "table": "items"})
    assert not is_error
    assert text.startswith(f"table {pg.schema}.items -- things for sale")
    assert "| id | integer | false | nextval(" in text
    assert "| price | numeric(10,2) | true | 0 |" in text
    assert "| name | text | false | NULL |" in text


async def test_describe_missing_table_names_it(client: Client, pg: Fixture) -> None:
    is_error, text = await call(client, "describe_table", {"schema": pg.schema, "table": "nope"})
    assert is_error
    assert f"table {pg.schema}.nope not found" in text


async def test_constraints_and_indexes(client: Client, pg: Fixture) -> None:
    is_error, text = await call(
        client, "get_table_constraints", {"schema": pg.schema, "table": "orders"}
    )
    assert not is_error
    assert "| PRIMARY KEY | PRIMARY KEY (id) |" in text
    assert f"FOREIGN KEY (item_id) REFERENCES {pg.schema}.items(id)" in text
    assert "CHECK ((qty > 0))" in text
    assert "| orders_item_idx |" in text


async def test_table_stats(client: Client, pg: Fixture) -> None:
    is_error, text = await call(client, "get_table_stats", {"schema": pg.schema, "table": "items"})
    assert not is_error
    assert text.splitlines()[0] == f"statistics of {pg.schema}.items:"
    assert "total_size: " in text
    assert "inserted: " in text


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("describe_table", {}),
        ("describe_table", {"table": ""}),
        ("describe_table", {"table": "x" * 64}),
        ("list_tables", {"schema": 5}),
        ("execute_sql", {"sql": "SELECT 1", "format": "xml"}),
        ("execute_sql", {"sql": "SELECT 1", "max_rows": 0}),
    ],
)
async def test_bad_arguments_are_tool_errors(
    client: Client, tool: str, arguments: dict[str, object]
) -> None:
    is_error, text = await call(client, tool, arguments)
    assert is_error
    assert text
