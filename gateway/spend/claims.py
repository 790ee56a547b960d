"""`general_settings.disable_spend_logs`: rows marked `UNLOGGED` get no spend-log row, yet still
count towards key, team, user and end-user spend and the daily rollups, exactly once.

A spend-log row's id is what makes a batch written twice count once (`batch.write_batch`).
Without the row, the id alone is inserted into `spend_claims`, in the same transaction and
with the same skip-if-present insert, and the batch counts only the ids that were new. Claims
are deleted after `CLAIM_TTL` (`maintenance.py`): a row replayed later than that after a crash
(its journal read at a restart days later) could count twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.spend.rows import UNLOGGED, Row
from gateway.store import tables
from gateway.store.bulk import insert_new

CLAIM_TTL = timedelta(days=3)


async def claim_unlogged(
    connection: AsyncConnection, rows: Sequence[Row]
) -> tuple[list[Row], set[str]]:
    """The rows to write as spend logs, and the ids of unlogged rows claimed now (not before)."""
    logged = [r for r in rows if not r.get(UNLOGGED)]
    if len(logged) == len(rows):
        return logged, set()
    claims = [{"id": r["id"], "start_time": r["start_time"]} for r in rows if r.get(UNLOGGED)]
    claimed = await insert_new(connection, tables.spend_claims, "id", claims)
    return logged, claimed
