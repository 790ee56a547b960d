"""`toolrelay backup FILE` and `toolrelay restore FILE`: the gateway's tables (keys, teams,
users and end users with their budgets, spend logs and the spend rollups) as one JSON file,
from and to SQLite or PostgreSQL. Models live in the config file, which is backed up as is.

Restore goes into an empty database only (after migrating it): it never merges into, or
overwrites, live data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Table, func, select

from gateway.store import tables
from gateway.store.database import Database, StoreUnavailableError, open_database
from toolrelay.operator.client import OperatorError

FORMAT = "toolrelay-backup"
VERSION = 1
TABLES: tuple[Table, ...] = (
    tables.teams,
    tables.users,
    tables.end_users,
    tables.virtual_keys,
    tables.spend_logs,
    tables.daily_spend,
    tables.daily_tag_spend,
)
BATCH = 500
Progress = Callable[[str, int, int], None]  # table, rows done, rows in table


async def backup(url: str, path: Path, progress: Progress) -> dict[str, int]:
    database = await _open(url)
    counts: dict[str, int] = {}
    document: dict[str, Any] = {"format": FORMAT, "version": VERSION, "tables": {}}
    try:
        async with database.engine.connect() as connection:
            for table in TABLES:
                result = await connection.execute(select(table).order_by(*table.primary_key))
                rows = [_to_json(table, dict(row._mapping)) for row in result]
                document["tables"][table.name] = rows
                counts[table.name] = len(rows)
                progress(table.name, len(rows), len(rows))
    finally:
        await database.close()
    temporary = path.with_suffix(path.suffix + ".partial")
    temporary.write_text(json.dumps(document), encoding="utf-8")
    temporary.replace(path)  # a crash never leaves half a backup under the real name
    return counts


async def restore(url: str, path: Path, progress: Progress) -> dict[str, int]:
    document = _read(path)
    database = await _open(url)
    counts: dict[str, int] = {}
    try:
        async with database.engine.begin() as connection:
            for table in TABLES:
                existing = await connection.scalar(select(func.count()).select_from(table))
                if existing:
                    raise OperatorError(
                        f"restore: {table.name} already has {existing} rows; "
                        "restore goes into an empty database only"
                    )
            for table in TABLES:
                rows = [_from_json(table, row) for row in document["tables"].get(table.name, [])]
                for start in range(0, len(rows), BATCH):
                    await connection.execute(table.insert(), rows[start : start + BATCH])
                    progress(table.name, min(start + BATCH, len(rows)), len(rows))
                if not rows:
                    progress(table.name, 0, 0)
                counts[table.name] = len(rows)
    finally:
        await database.close()
    return counts


async def _open(url: str) -> Database:
    try:
        return await open_database(url)
    except StoreUnavailableError as exc:
        raise OperatorError(str(exc)) from None


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OperatorError(f"{path}: file not found") from None
    except (OSError, ValueError) as exc:
        raise OperatorError(f"{path}: not a readable backup ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise OperatorError(f"{path}: not a toolrelay backup")
    if document.get("version") != VERSION:
        raise OperatorError(f"{path}: backup version {document.get('version')} is not supported")
    return document


def _to_json(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in row.items()}


def _from_json(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for column in table.columns:
        value = out.get(column.name)
        if not isinstance(value, str):
            continue
        if isinstance(column.type, DateTime):
            out[column.name] = datetime.fromisoformat(value)
        elif isinstance(column.type, Date):
            out[column.name] = date.fromisoformat(value)
    return out
