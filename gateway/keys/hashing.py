"""Keys are random `sk-` strings shown once; only their sha256 is stored."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "sk-"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    """The stored id (`token`). A value that already is a hash is passed through, so admin
    endpoints accept either the key or its token, as LiteLLM does."""
    if len(key) == 64 and not key.startswith(KEY_PREFIX) and _is_hex(key):
        return key
    return hashlib.sha256(key.encode()).hexdigest()


def hash_presented_key(key: str) -> str:
    """The id of a key a client presents as its credential: always hashed, so the stored
    token (visible in spend logs and `/key/info`) is never itself a credential."""
    return hashlib.sha256(key.encode()).hexdigest()


def display_name(key: str) -> str:
    return f"{key[:3]}...{key[-4:]}"


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True
