"""A minimal HTTP/1.1 keep-alive client over raw sockets.

The load generators must cost far less than the servers they measure, so they skip httpx:
requests are pre-rendered bytes and responses are framed by a small incremental parser
(Content-Length or chunked). `ResponseParser` is pure; `BlockingClient` is for
concurrency-1 measurements, where a plain blocking socket adds the least noise.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


class ProtocolError(Exception):
    """The server's bytes are not an HTTP/1.1 response we can frame."""


class _ClosedBeforeResponse(ProtocolError):
    """The server closed the connection before answering (an idle keep-alive timeout)."""


def build_request(
    method: str,
    path: str,
    host: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    all_headers = (
        {"content-type": "application/json", **(headers or {})} if body else dict(headers or {})
    )
    for name, value in all_headers.items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class ResponseParser:
    """Feed bytes as they arrive; `done` turns true at the end of one response.

    `on_body` (if set) sees each piece of decoded body as soon as it is framed, which is how
    the streaming figure timestamps SSE events.
    """

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    done: bool = False
    keep_alive: bool = True
    _buffer: bytearray = field(default_factory=bytearray)
    _state: str = "head"
    _remaining: int = 0

    def feed(self, data: bytes) -> bytes:
        """Consume `data`; returns the decoded body bytes framed by this call."""
        if self.done:
            raise ProtocolError("data after the end of the response")
        self._buffer += data
        framed = bytearray()
        while not self.done:
            if self._state == "head" and not self._parse_head():
                break
            if self._state == "length":
                take = min(self._remaining, len(self._buffer))
                framed += self._buffer[:take]
                del self._buffer[:take]
                self._remaining -= take
                if self._remaining == 0:
                    self._finish()
                break
            if self._state == "chunk-size":
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    break
                size_text = bytes(self._buffer[:end]).split(b";", 1)[0].strip()
                try:
                    self._remaining = int(size_text, 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size {size_text!r}") from None
                del self._buffer[: end + 2]
                self._state = "chunk-data" if self._remaining else "trailer"
            elif self._state == "chunk-data":
                if len(self._buffer) < self._remaining + 2:
                    take = min(self._remaining, len(self._buffer))
                    framed += self._buffer[:take]
                    del self._buffer[:take]
                    self._remaining -= take
                    break
                framed += self._buffer[: self._remaining]
                del self._buffer[: self._remaining + 2]
                self._remaining = 0
                self._state = "chunk-size"
            elif self._state == "trailer":
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    break
                del self._buffer[: end + 2]
                if end == 0:
                    self._finish()
        self.body += framed
        return bytes(framed)

    def _parse_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"bad status line {head[0]!r}")
        self.status = int(parts[1])
        for line in head[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.keep_alive = self.headers.get("connection", "").lower() != "close"
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            self._state = "chunk-size"
        else:
            self._remaining = int(self.headers.get("content-length", "0"))
            self._state = "length"
            if self._remaining == 0:
                self._finish()
        return True

    def _finish(self) -> None:
        self.done = True
        self._state = "done"


class BlockingClient:
    """One keep-alive connection; reconnects if the server closed it."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self._sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def request(self, raw: bytes, events: list[float] | None = None) -> ResponseParser:
        """Send one pre-rendered request. If `events` is given, append the perf_counter time
        at which each SSE `data:` event arrived. A kept-alive connection the server closed
        while idle is replaced once, transparently."""
        reused = self._sock is not None
        try:
            return self._exchange(raw, events)
        except (ConnectionError, _ClosedBeforeResponse):
            if not reused:
                raise
        return self._exchange(raw, events)

    def _exchange(self, raw: bytes, events: list[float] | None) -> ResponseParser:
        if self._sock is None:
            self._sock = self._connect()
        sock = self._sock
        parser = ResponseParser()
        received = False
        try:
            sock.sendall(raw)
            while not parser.done:
                data = sock.recv(65536)
                if not data:
                    if not received:
                        raise _ClosedBeforeResponse("connection closed before any response")
                    raise ProtocolError("connection closed before the response ended")
                received = True
                framed = parser.feed(data)
                if events is not None and framed:
                    events.extend([time.perf_counter()] * framed.count(b"data:"))
        except BaseException:
            self.close()
            raise
        if not parser.keep_alive:
            self.close()
        return parser

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
