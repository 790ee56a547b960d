"""The spend `RequestHook`: after every call, price it and make its spend-log row durable
before the response leaves: on the Redis spend stream when there is one and it answers,
otherwise in the local queue behind the journal.

With `store_prompts_in_spend_logs` its `pre_call` asks the route to keep the response, which
the row then carries with the request (`rows.SpendLogSettings`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.hooks import CallRecord
from gateway.spend.prices import PriceTable
from gateway.spend.rows import SpendLogSettings, row_from_record
from gateway.spend.writer import SpendWriter

if TYPE_CHECKING:
    from gateway.spend.stream import SpendStream


@dataclass
class SpendLogHook:
    prices: PriceTable
    writer: SpendWriter
    stream: SpendStream | None = None
    settings: SpendLogSettings = field(default_factory=SpendLogSettings)

    async def pre_call(self, record: CallRecord) -> None:
        if self.settings.stores_content:
            record.capture_response = True

    async def post_call(self, record: CallRecord) -> None:
        if self.stream is not None:
            found, kept = self.stream.take_handed_over(id(record))
            if found and kept is None:
                return  # already on the stream, with the limits settlement
            if kept is not None:
                self.writer.enqueue(kept)  # Redis was away: the local journal takes it
                return
        row = row_from_record(record, self.prices.cost(record), self.settings)
        if self.stream is not None and await self.stream.append(row):
            return
        self.writer.enqueue(row)
