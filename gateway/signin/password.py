"""Password sign-in for the admin page, as LiteLLM reads it: `UI_USERNAME`/`UI_PASSWORD`
(or `ADMIN_USERNAME`/`ADMIN_PASSWORD`, as some guides spell them). The username defaults to
`admin`; with no password set, the master key is the password (LiteLLM's default).

Both values are compared in constant time, both always (a wrong username costs the same
as a wrong password), and neither is ever logged.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.config import LoadedConfig

DEFAULT_USERNAME = "admin"


@dataclass(frozen=True)
class AdminPassword:
    username: str
    password: str

    def matches(self, username: str, password: str) -> bool:
        same_user = hmac.compare_digest(username.encode(), self.username.encode())
        same_password = hmac.compare_digest(password.encode(), self.password.encode())
        return same_user & same_password


def admin_password(config: LoadedConfig, environ: Mapping[str, str]) -> AdminPassword | None:
    password = environ.get("UI_PASSWORD") or environ.get("ADMIN_PASSWORD") or config.master_key
    if not password:
        return None
    username = environ.get("UI_USERNAME") or environ.get("ADMIN_USERNAME") or DEFAULT_USERNAME
    return AdminPassword(username=username, password=password)
