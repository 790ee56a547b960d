"""Token usage read off a pass-through response as it goes by, without holding it back.

Event streams are read line by line (`data: {...}`), and each JSON event is checked for the
provider's usage fields; a plain JSON body is kept (up to `MAX_JSON_BYTES`) and read at the
end. Anthropic reports input tokens at `message_start` and output tokens at `message_delta`;
OpenAI at the end of a chat stream (`usage`) or in `response.completed`; Gemini in each
chunk's `usageMetadata`, the last one being the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

MAX_JSON_BYTES = 8 * 1024 * 1024


@dataclass
class UsageScanner:
    event_stream: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    _pending: bytes = b""
    _body: list[bytes] = field(default_factory=list)
    _body_size: int = 0

    def feed(self, data: bytes) -> None:
        if not self.event_stream:
            self._body_size += len(data)
            if self._body_size <= MAX_JSON_BYTES:
                self._body.append(data)
            return
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            self._line(line.rstrip(b"\r"))

    def finish(self) -> None:
        if self.event_stream:
            self._line(self._pending)
        elif self._body_size <= MAX_JSON_BYTES:
            self._json(b"".join(self._body))

    def usage(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }

    def _line(self, line: bytes) -> None:
        if line.startswith(b"data:"):
            self._json(line[5:].strip())

    def _json(self, raw: bytes) -> None:
        if not raw or raw == b"[DONE]":
            return
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                self._read(item)

    def _read(self, event: dict[str, Any]) -> None:
        message = event.get("message")
        if isinstance(message, dict) and isinstance(message.get("usage"), dict):
            self._anthropic(message["usage"])  # anthropic message_start
        response = event.get("response")
        if isinstance(response, dict) and isinstance(response.get("usage"), dict):
            self._openai(response["usage"])  # responses API: response.completed
        usage = event.get("usage")
        if isinstance(usage, dict):
            # OpenAI (chat and Responses) always has a total; Anthropic never does.
            if "prompt_tokens" in usage or "total_tokens" in usage:
                self._openai(usage)
            else:
                self._anthropic(usage)
        metadata = event.get("usageMetadata")
        if isinstance(metadata, dict):
            self.prompt_tokens = int(metadata.get("promptTokenCount") or 0)
            self.completion_tokens = int(metadata.get("candidatesTokenCount") or 0) + int(
                metadata.get("thoughtsTokenCount") or 0
            )
            self.cached_tokens = int(metadata.get("cachedContentTokenCount") or 0)

    def _anthropic(self, usage: dict[str, Any]) -> None:
        """Anthropic counts cache reads and writes apart from `input_tokens`; spend counts
        them all as prompt, the reads at the cached price."""
        if "input_tokens" in usage:
            read = int(usage.get("cache_read_input_tokens") or 0)
            written = int(usage.get("cache_creation_input_tokens") or 0)
            self.prompt_tokens = int(usage.get("input_tokens") or 0) + read + written
            self.cached_tokens = read
        if "output_tokens" in usage:
            self.completion_tokens = int(usage.get("output_tokens") or 0)

    def _openai(self, usage: dict[str, Any]) -> None:
        prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
        completion = usage.get("completion_tokens", usage.get("output_tokens"))
        details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
        if isinstance(prompt, int):
            self.prompt_tokens = prompt
        if isinstance(completion, int):
            self.completion_tokens = completion
        if isinstance(details, dict) and isinstance(details.get("cached_tokens"), int):
            self.cached_tokens = details["cached_tokens"]
