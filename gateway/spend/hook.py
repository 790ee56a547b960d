"""The spend `RequestHook`: after every call, price it and queue its spend-log row."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.hooks import CallRecord
from gateway.spend.prices import PriceTable
from gateway.spend.rows import row_from_record
from gateway.spend.writer import SpendWriter


@dataclass
class SpendLogHook:
    prices: PriceTable
    writer: SpendWriter

    async def pre_call(self, record: CallRecord) -> None:
        return None

    async def post_call(self, record: CallRecord) -> None:
        self.writer.enqueue(row_from_record(record, self.prices.cost(record)))
