"""Ids made on every request (the request id, the spend row's id).

They only need to be unique, across replicas too (a spend row's id is what makes a replayed
row count once), never unguessable: neither is a credential. So the bits come from the
`random` module's generator (seeded from the OS at import, and again in every forked child)
instead of `os.urandom`. `os.urandom` is a system call made with the GIL released: on the
event loop, under saturation, each call let another thread (the aiosqlite worker, the trace
exporter) take the GIL, and the loop then waited for it back (5% of the gateway's samples
were in this function, for 0.45 µs of work).
"""

from __future__ import annotations

import random

# The bits `uuid.UUID(int=..., version=4)` clears and sets: the variant and the version.
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_SET = (0x8000 << 48) | (4 << 76)


def uuid4_hex() -> str:
    """The same shape as `uuid.uuid4().hex` (122 random bits, version 4), without building a
    `UUID` object, whose checks cost as much as the random bits themselves."""
    return f"{random.getrandbits(128) & _CLEAR | _SET:032x}"
