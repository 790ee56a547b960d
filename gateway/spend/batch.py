"""Write one batch of spend rows in one transaction: the logs, the running spend of every key,
team, user and end user, and the daily rollups. Rows already written are skipped, so a batch
retried after an unclear commit, or replayed from the journal or the spend stream by another
replica, is never counted twice."""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.spend.claims import claim_unlogged
from gateway.spend.rows import Row
from gateway.store import tables
from gateway.store.bulk import insert_new
from gateway.store.database import Database
from gateway.store.repository import now


def _upsert(dialect: str) -> Callable[[Table], Any]:
    """The dialect's INSERT with ON CONFLICT (`postgresql` or `sqlite`), from the dialect
    package the engine has loaded already: naming both here would load PostgreSQL's
    (about 2 MB resident) into every SQLite gateway."""
    insert: Callable[[Table], Any] = importlib.import_module(
        f"sqlalchemy.dialects.{dialect}"
    ).insert
    return insert


_ENTITY_TABLES: tuple[tuple[str, Table, str], ...] = (
    ("api_key", tables.virtual_keys, "token"),
    ("team_id", tables.teams, "team_id"),
    ("user_id", tables.users, "user_id"),
)


async def write_batch(db: Database, rows: Sequence[Row]) -> int:
    """Returns how many rows were new. The insert skips ids already stored (ON CONFLICT DO
    NOTHING, on both databases), so two replicas replaying the same row, or a batch retried
    after an unclear commit, count it once; totals and rollups only take the new rows."""
    async with db.engine.begin() as connection:
        unique = list({r["id"]: r for r in rows}.values())
        logged, inserted = await claim_unlogged(connection, unique)
        # at the driver, not through SQLAlchemy's executemany: see `gateway.store.bulk`
        inserted |= await insert_new(connection, tables.spend_logs, "id", logged)
        fresh = [r for r in unique if r["id"] in inserted]
        if not fresh:
            return 0
        await _add_entity_spend(connection, fresh)
        await _upsert_end_users(connection, db.dialect, fresh)
        await _upsert_rollups(connection, db.dialect, fresh)
    return len(fresh)


async def _add_entity_spend(connection: AsyncConnection, rows: Sequence[Row]) -> None:
    for field, table, pk in _ENTITY_TABLES:
        totals: dict[str, float] = defaultdict(float)
        for row in rows:
            if row.get(field) and row["spend"]:
                totals[row[field]] += row["spend"]
        if totals:
            statement = (
                update(table)
                .where(table.c[pk] == bindparam("b_id"))
                .values(spend=table.c.spend + bindparam("b_spend"))
            )
            await connection.execute(
                statement, [{"b_id": k, "b_spend": v} for k, v in totals.items()]
            )


async def _upsert_end_users(connection: AsyncConnection, dialect: str, rows: Sequence[Row]) -> None:
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        if row.get("end_user"):
            totals[row["end_user"]] += row["spend"]
    if not totals:
        return
    table = tables.end_users
    stamp = now()
    statement = _upsert(dialect)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={"spend": table.c.spend + statement.excluded.spend},
    )
    values = [
        {
            "user_id": user,
            "spend": spend,
            "models": [],
            "metadata": {},
            "blocked": False,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for user, spend in sorted(totals.items())
    ]
    await connection.execute(statement, values)


def _day(row: Row) -> date:
    day: date = row["start_time"].date()
    return day


async def _upsert_rollups(connection: AsyncConnection, dialect: str, rows: Sequence[Row]) -> None:
    daily: dict[tuple[date, str, str, str, str, str], list[float]] = defaultdict(
        lambda: [0.0, 0, 0, 0, 0]
    )
    tags: dict[tuple[date, str], list[float]] = defaultdict(lambda: [0.0, 0])
    for row in rows:
        dims = (
            _day(row),
            row.get("api_key") or "",
            row.get("team_id") or "",
            row.get("user_id") or "",
            row.get("end_user") or "",
            row["model_group"],
        )
        total = daily[dims]
        total[0] += row["spend"]
        total[1] += row["prompt_tokens"]
        total[2] += row["completion_tokens"]
        total[3] += 1
        total[4] += row["status"] != "success"
        for tag in row.get("tags") or ():
            tag_total = tags[(_day(row), tag[:255])]
            tag_total[0] += row["spend"]
            tag_total[1] += 1
    table = tables.daily_spend
    statement = _upsert(dialect)(table)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "api_key", "team_id", "user_id", "end_user", "model_group"],
        set_={
            name: table.c[name] + statement.excluded[name]
            for name in ("spend", "prompt_tokens", "completion_tokens", "requests", "failures")
        },
    )
    await connection.execute(
        statement,
        [
            {
                "day": d,
                "api_key": k,
                "team_id": t,
                "user_id": u,
                "end_user": e,
                "model_group": m,
                "spend": v[0],
                "prompt_tokens": int(v[1]),
                "completion_tokens": int(v[2]),
                "requests": int(v[3]),
                "failures": int(v[4]),
            }
            for (d, k, t, u, e, m), v in sorted(daily.items())
        ],
    )
    if tags:
        tag_table = tables.daily_tag_spend
        tag_statement = _upsert(dialect)(tag_table)
        tag_statement = tag_statement.on_conflict_do_update(
            index_elements=["day", "tag"],
            set_={
                "spend": tag_table.c.spend + tag_statement.excluded.spend,
                "requests": tag_table.c.requests + tag_statement.excluded.requests,
            },
        )
        await connection.execute(
            tag_statement,
            [
                {"day": d, "tag": tag, "spend": v[0], "requests": int(v[1])}
                for (d, tag), v in sorted(tags.items())
            ],
        )
