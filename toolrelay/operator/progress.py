"""Showing a middleware chat stream as it happens: the answer's text, and one line per tool
the middleware ran (from the `<details type="tool_calls">` blocks it streams for Open WebUI)."""

from __future__ import annotations

import json
from typing import Any

from middleware.progress import ProgressCall, split_content
from toolrelay.operator.client import OperatorError
from toolrelay.operator.output import Output

BLOCK_START = "<details"
BLOCK_END = "</details>"


class ChatPrinter:
    def __init__(self, out: Output) -> None:
        self.out = out
        self.pending = ""
        self.text: list[str] = []
        self.tools: list[dict[str, str]] = []
        self.usage: dict[str, Any] | None = None

    def feed_line(self, line: str) -> None:
        if not line.startswith("data:"):
            return
        payload = line[len("data:") :].strip()
        if payload == "[DONE]":
            return
        chunk = json.loads(payload)
        if "error" in chunk:
            raise OperatorError(f"chat: {chunk['error'].get('message', chunk['error'])}")
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                self.pending += content
                self._flush(final=False)

    def finish(self) -> None:
        self._flush(final=True)
        if self.out.as_json:
            self.out.data({"content": "".join(self.text), "tools": self.tools, "usage": self.usage})
        else:
            self.out.console.print()

    def _flush(self, *, final: bool) -> None:
        # Text goes out at once; a progress block waits until its closing tag has arrived.
        while self.pending:
            start = self.pending.find(BLOCK_START)
            if start < 0:
                ready, self.pending = self.pending, ""
            elif start > 0:
                ready, self.pending = self.pending[:start], self.pending[start:]
            else:
                end = self.pending.find(BLOCK_END)
                if end < 0 and not final:
                    return
                cut = len(self.pending) if end < 0 else end + len(BLOCK_END)
                if self.pending[cut : cut + 1] == "\n":
                    cut += 1
                ready, self.pending = self.pending[:cut], self.pending[cut:]
            for part in split_content(ready):
                if isinstance(part, ProgressCall):
                    self._tool(part)
                elif part:
                    self._text(part)

    def _text(self, text: str) -> None:
        self.text.append(text)
        if not self.out.as_json:
            self.out.console.print(text, end="", markup=False)

    def _tool(self, call: ProgressCall) -> None:
        self.tools.append({"name": call.name, "arguments": call.arguments, "result": call.result})
        if not self.out.as_json:
            shown = call.result if len(call.result) <= 80 else call.result[:77] + "..."
            self.out.console.print(
                f"\n[tool] {call.name}({call.arguments}) -> {shown}", markup=False
            )


def parse_arguments(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs; a value that parses as JSON (numbers, true, lists) is used as such."""
    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise OperatorError(f"--arg: expected key=value, got {pair!r}")
        try:
            arguments[key] = json.loads(value)
        except ValueError:
            arguments[key] = value
    return arguments
