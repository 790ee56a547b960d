"""Human output (rich tables) or `--json`, chosen once per command."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table


class Output:
    def __init__(self, out: TextIO, *, as_json: bool) -> None:
        self.as_json = as_json
        self.console = Console(file=out, highlight=False, soft_wrap=True)
        self.out = out

    def data(self, value: Any) -> None:
        """Machine output: the value as JSON (only with --json)."""
        self.out.write(json.dumps(value, indent=2, default=str) + "\n")

    def table(
        self, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], raw: Any
    ) -> None:
        if self.as_json:
            self.data(raw)
            return
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if cell is None else str(cell) for cell in row))
        self.console.print(table)

    def item(self, title: str, values: dict[str, Any]) -> None:
        if self.as_json:
            self.data(values)
            return
        rows = [(k, _short(v)) for k, v in values.items()]
        self.table(title, ("field", "value"), rows, values)

    def line(self, text: str, raw: Any = None) -> None:
        if self.as_json:
            self.data(raw if raw is not None else {"message": text})
            return
        self.console.print(text)


def _short(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)
