"""Ids made on every request (the request id, the spend row's id)."""

from __future__ import annotations

import os

# The bits `uuid.UUID(bytes=..., version=4)` clears and sets: the variant and the version.
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_SET = (0x8000 << 48) | (4 << 76)


def uuid4_hex() -> str:
    """The same string as `uuid.uuid4().hex` (16 bytes from `os.urandom`, version 4), without
    building a `UUID` object, whose checks cost as much as the random bytes themselves."""
    return f"{int.from_bytes(os.urandom(16)) & _CLEAR | _SET:032x}"
