"""Google access tokens for `vertex_ai/` deployments, minted by google-auth and cached.

A credential source is `vertex_credentials` (a service-account key as a mapping, as JSON
text, or as a file path) or, without it, Application Default Credentials
(`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's user credentials, the metadata server). Each
source is loaded once per app and shared by every deployment that names it.

google-auth's refresh is blocking HTTP, so it runs in a worker thread, once for all the
requests waiting on it. A token that still has a while to live is served at once while a
background refresh replaces it, so requests only wait when there is no usable token at all.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import google.auth
import google.auth.exceptions
import orjson
import requests
import structlog
from google.auth.credentials import Credentials
from google.auth.transport.requests import Request
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

from gateway import errors

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# Start replacing a token this long before it expires. google-auth itself calls a token
# invalid 3m45s before expiry; between the two, requests use the old token while it refreshes.
REFRESH_AHEAD = datetime.timedelta(minutes=10)
# After a background refresh failed, the still-valid token is served this long before the
# next attempt, so a token endpoint outage is not hit once per request.
RETRY_AFTER_FAILURE = 30.0

log = structlog.get_logger("toolrelay.vertex")

CredentialSource = Mapping[str, Any] | str | None


class VertexConfigError(errors.BadRequestError):
    """A `vertex_ai/` deployment whose settings cannot work (no project, a broken key)."""

    default_code = "invalid_vertex_config"


@dataclass
class Account:
    """Loaded credentials and the project they name; `refreshing` is the shared refresh."""

    credentials: Credentials
    project: str | None
    refreshing: asyncio.Task[None] | None = field(default=None, repr=False)
    failed_at: float = float("-inf")  # monotonic time of the last failed refresh


def _load(source: CredentialSource) -> tuple[Credentials, str | None]:
    """Blocking: reads files, and ADC may probe the metadata server."""
    if source is None:
        credentials, project = google.auth.default(scopes=SCOPES)
        return credentials, project
    if isinstance(source, str):
        text = source if source.lstrip().startswith("{") else Path(source).read_text()
        try:
            source = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"vertex_credentials is not valid JSON: {exc}") from exc
    if not isinstance(source, Mapping):
        raise ValueError("vertex_credentials must hold a JSON object")
    return _from_info(dict(source))


def _from_info(info: dict[str, Any]) -> tuple[Credentials, str | None]:
    """Only the two kinds of key file an operator hands over; google-auth's generic loader
    would also run external-account configs (which can execute commands) from config text."""
    kind = info.get("type")
    if kind == "service_account":
        credentials: Credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=SCOPES
        )
        return credentials, info.get("project_id")
    if kind == "authorized_user":
        credentials = user_credentials.Credentials.from_authorized_user_info(  # type: ignore[no-untyped-call]
            info, scopes=SCOPES
        )
        return credentials, info.get("quota_project_id")
    raise ValueError(
        f"vertex_credentials has type {kind!r}; expected a service_account key "
        "(or authorized_user credentials)"
    )


def _refresh(credentials: Credentials) -> None:
    """Blocking: one token request. A session per refresh, closed at once (hourly traffic)."""
    with requests.Session() as session:
        credentials.refresh(Request(session))  # type: ignore[no-untyped-call]


def _source_key(source: CredentialSource) -> str:
    if source is None:
        return "adc"
    if isinstance(source, Mapping):
        return "json:" + orjson.dumps(dict(source), option=orjson.OPT_SORT_KEYS).decode()
    return "str:" + source


def _utcnow() -> datetime.datetime:
    # google-auth keeps `expiry` as a naive UTC datetime
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class VertexTokens:
    """Accounts by credential source, built once per app (no module-level state)."""

    def __init__(self) -> None:
        self._loading: dict[str, asyncio.Task[Account]] = {}

    async def account(self, source: CredentialSource) -> Account:
        key = _source_key(source)
        task = self._loading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(source))
            self._loading[key] = task
        try:
            return await asyncio.shield(task)
        except Exception:
            # a key file that is fixed (or a metadata server that comes up) is picked up later
            if task.done() and self._loading.get(key) is task:
                del self._loading[key]
            raise

    async def _load(self, source: CredentialSource) -> Account:
        try:
            credentials, project = await asyncio.to_thread(_load, source)
        except (google.auth.exceptions.GoogleAuthError, ValueError, OSError) as exc:
            where = (
                "vertex_credentials" if source is not None else "Application Default Credentials"
            )
            raise VertexConfigError(
                f"vertex_ai: cannot load Google credentials from {where}: {exc}. Set "
                "litellm_params.vertex_credentials to a service-account key (a path or its "
                "JSON), or GOOGLE_APPLICATION_CREDENTIALS.",
                param="vertex_credentials",
            ) from exc
        return Account(credentials, project)

    async def token(self, account: Account) -> str:
        credentials = account.credentials
        token = credentials.token
        expiry = credentials.expiry
        if token and (expiry is None or expiry - _utcnow() > REFRESH_AHEAD):
            return str(token)
        if token and credentials.valid:
            # still good for a few minutes: a refresh runs behind it, unless one just failed
            if time.monotonic() - account.failed_at > RETRY_AFTER_FAILURE:
                self._start_refresh(account)
            return str(token)
        try:
            await asyncio.shield(self._start_refresh(account))
        except google.auth.exceptions.RefreshError as exc:
            if getattr(exc, "retryable", False):  # the token endpoint's own trouble (5xx)
                raise errors.ServiceUnavailableError(
                    f"vertex_ai error: Google's token endpoint failed: {exc}", provider="vertex_ai"
                ) from exc
            raise errors.AuthenticationError(
                f"vertex_ai error: Google refused the credentials: {exc}", provider="vertex_ai"
            ) from exc
        except google.auth.exceptions.GoogleAuthError as exc:
            raise errors.ServiceUnavailableError(
                f"vertex_ai error: cannot reach Google's token endpoint: {exc}",
                provider="vertex_ai",
            ) from exc
        return str(credentials.token)

    def forget(self, account: Account) -> None:
        """After the upstream refused a token: the next request fetches a fresh one."""
        account.credentials.token = None

    def _start_refresh(self, account: Account) -> asyncio.Task[None]:
        running = account.refreshing
        if running is not None and not running.done():
            return running
        task = asyncio.ensure_future(asyncio.to_thread(_refresh, account.credentials))
        task.add_done_callback(lambda done: _note_failure(account, done))
        account.refreshing = task
        return task


def _note_failure(account: Account, task: asyncio.Task[None]) -> None:
    # Retrieving the exception keeps a background refresh nobody awaited from logging a
    # traceback; a request that needs a token refreshes again and reports the error itself.
    if not task.cancelled() and task.exception() is not None:
        account.failed_at = time.monotonic()
        log.warning("vertex_ai token refresh failed", error=str(task.exception()))
