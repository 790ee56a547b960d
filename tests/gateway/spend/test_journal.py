"""A row appended to the journal comes back unchanged when a later start recovers it."""

from __future__ import annotations

from pathlib import Path

import orjson

from gateway.auth import Principal
from gateway.hooks import CallRecord
from gateway.spend.journal import journal_for
from gateway.spend.rows import from_json_ready, row_from_record


def test_a_journaled_row_is_recovered_unchanged(tmp_path: Path) -> None:
    record = CallRecord(
        "req-1", Principal(kind="open", is_admin=True), "chat", "m", {"tags": ["a"]}
    )
    record.prompt_tokens, record.completion_tokens = 12, 3
    record.ended_at = record.started_at + 0.25
    rows = [row_from_record(record, 0.5), row_from_record(record, 0.0)]
    journal = journal_for(tmp_path)
    for row in rows:
        journal.append(row)
    journal.close()

    spill = tmp_path / "spill.jsonl"
    assert journal_for(tmp_path).recover_into(spill) == 2  # this process's file, as at a restart
    recovered = [from_json_ready(orjson.loads(line)) for line in spill.read_bytes().splitlines()]
    assert recovered == rows
