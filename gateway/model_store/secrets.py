"""Secrets at rest: provider keys in stored models and credentials are encrypted with
AES-256-GCM (`cryptography`), keyed by `LITELLM_SALT_KEY`, or by the master key when that is
unset (as LiteLLM does).

A stored secret is the text `aesgcm:v1:<urlsafe base64 of nonce || ciphertext+tag>`. The
key is SHA-256 of the salt key, so any length of salt key works. A value encrypted under
another key fails authentication (`SecretKeyMismatchError`) rather than decrypting to junk.

`cryptography` (about 7 MB of resident memory) is imported when a `SecretBox` is made, that
is when `store_model_in_db` is on; every gateway imports this module for `MASK`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "aesgcm:v1:"
NONCE_BYTES = 12
SALT_KEY_ENV = "LITELLM_SALT_KEY"
# What routes show in place of a stored secret; an update that sends it back keeps the secret.
MASK = "********"


class SecretKeyMismatchError(Exception):
    """A stored secret does not decrypt under this key (the salt key changed?)."""


class NoSecretKeyError(Exception):
    """Neither LITELLM_SALT_KEY nor a master key is set: secrets cannot be stored."""


@dataclass(frozen=True)
class SecretBox:
    _aead: AESGCM = field(repr=False)

    @classmethod
    def from_key(cls, salt_key: str) -> SecretBox:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return cls(AESGCM(hashlib.sha256(salt_key.encode()).digest()))

    def encrypt(self, plain: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode(), None)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, stored: str) -> str:
        if not is_encrypted(stored):
            return stored  # written before encryption, or by hand: used as it is
        from cryptography.exceptions import InvalidTag  # loaded with AESGCM by `from_key`

        raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
        try:
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
        except InvalidTag:
            raise SecretKeyMismatchError(
                "a stored secret does not decrypt with the current salt key"
            ) from None


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def salt_key_from(environ: Mapping[str, str], master_key: str | None) -> str:
    key = environ.get(SALT_KEY_ENV) or master_key
    if not key:
        raise NoSecretKeyError(
            f"set {SALT_KEY_ENV} (or a master_key) to store models and credentials in the database"
        )
    return key


_SECRET_SUFFIXES = ("_key", "secret", "_token", "password", "credentials")
_SECRET_NAMES = frozenset({"aws_access_key_id", "client_secret", "token"})


def is_secret_param(name: str) -> bool:
    """Which litellm_params are secrets: api_key, aws_secret_access_key, azure_ad_token,
    vertex_credentials, ... (but not max_tokens)."""
    lowered = name.lower()
    return lowered in _SECRET_NAMES or lowered.endswith(_SECRET_SUFFIXES)
