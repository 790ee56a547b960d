"""Plain ASGI plumbing for one request/response exchange: no framework on the hot path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from starlette.types import Receive, Scope, Send

from .recorder import RecordedRequest

JSON = b"application/json"
EVENT_STREAM = b"text/event-stream; charset=utf-8"

Headers = Sequence[tuple[bytes, bytes]]


class Exchange:
    """One HTTP request and the response being written to it."""

    __slots__ = (
        "_disconnected",
        "_watcher",
        "body",
        "method",
        "path",
        "path_params",
        "receive",
        "record",
        "scope",
        "send",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.path_params: dict[str, str] = {}
        self.body = b""  # the raw request body once read (a signature check needs the bytes)
        self.record: RecordedRequest | None = None
        self._disconnected: asyncio.Event | None = None
        self._watcher: asyncio.Task[None] | None = None

    @property
    def query(self) -> str:
        raw: bytes = self.scope.get("query_string", b"")
        return raw.decode("latin-1")

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return bytes(value)
        return None

    async def read_body(self) -> bytes:
        message = await self.receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            self.body = body
            return body
        parts = [body]
        while message.get("more_body", False):
            message = await self.receive()
            parts.append(message.get("body", b""))
        self.body = b"".join(parts)
        return self.body

    async def respond(
        self, status: int, body: bytes, content_type: bytes = JSON, headers: Headers = ()
    ) -> None:
        await self.start(
            status,
            content_type,
            (*headers, (b"content-length", str(len(body)).encode())),
        )
        await self.send({"type": "http.response.body", "body": body, "more_body": False})
        self._completed()

    async def start(self, status: int, content_type: bytes, headers: Headers = ()) -> None:
        if self.record is not None:
            self.record.status = status
        await self.send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type), *headers],
            }
        )

    async def chunk(self, data: bytes) -> None:
        """Send part of the body now; uvicorn writes each message to the socket as it comes."""
        await self.send({"type": "http.response.body", "body": data, "more_body": True})

    async def finish(self, data: bytes = b"") -> None:
        await self.send({"type": "http.response.body", "body": data, "more_body": False})
        self._completed()

    async def pause(self, milliseconds: int) -> bool:
        """Wait, unless the client goes away first; returns whether the client is still there."""
        if milliseconds <= 0:
            return not self.client_gone
        gone = self._watch_disconnect()
        try:
            await asyncio.wait_for(gone.wait(), milliseconds / 1000)
        except TimeoutError:
            return True
        return False

    async def wait_disconnect(self) -> None:
        await self._watch_disconnect().wait()

    @property
    def client_gone(self) -> bool:
        return self._disconnected is not None and self._disconnected.is_set()

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()

    def _watch_disconnect(self) -> asyncio.Event:
        if self._disconnected is None:
            self._disconnected = asyncio.Event()
            self._watcher = asyncio.create_task(self._watch(self._disconnected))
        return self._disconnected

    async def _watch(self, gone: asyncio.Event) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        gone.set()

    def _completed(self) -> None:
        if self.record is not None:
            self.record.completed = True
