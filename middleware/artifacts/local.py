"""Artifacts on local disk, served by `/files/{name}` behind HMAC-signed, expiring URLs."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from pathlib import Path

import anyio

from middleware.artifacts.base import object_name

_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{1,12}$")


class InvalidSignature(Exception):
    """The URL was tampered with, has expired, or names no stored file."""


class LocalArtifactStore:
    def __init__(self, directory: Path, *, public_url: str, secret: bytes, expiry: int) -> None:
        self.directory = directory
        self.public_url = public_url.rstrip("/")
        self._secret = secret
        self.expiry = expiry
        directory.mkdir(parents=True, exist_ok=True)

    def _signature(self, name: str, expires: int) -> str:
        message = f"{name}:{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    async def put(self, data: bytes, content_type: str) -> str:
        name = object_name(content_type)
        await anyio.Path(self.directory / name).write_bytes(data)
        return self.sign(name)

    def sign(self, name: str) -> str:
        expires = int(time.time()) + self.expiry
        return (
            f"{self.public_url}/files/{name}?expires={expires}&sig={self._signature(name, expires)}"
        )

    def verify(self, name: str, expires: str | None, sig: str | None) -> Path:
        if not _NAME.match(name) or not expires or not sig or not expires.isdigit():
            raise InvalidSignature("malformed file URL")
        if not hmac.compare_digest(self._signature(name, int(expires)), sig):
            raise InvalidSignature("bad signature")
        if int(expires) < time.time():
            raise InvalidSignature("URL expired")
        path = self.directory / name
        if not path.is_file():
            raise InvalidSignature("no such file")
        return path
