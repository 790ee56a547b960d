"""Where the operator CLI connects, and the one place its HTTP errors become one line.

The gateway is `TOOLRELAY_URL` (or LiteLLM's `LITELLM_PROXY_URL`), the admin key
`TOOLRELAY_API_KEY` (or `LITELLM_PROXY_API_KEY`), the middleware `TOOLRELAY_MIDDLEWARE_URL`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_GATEWAY = "http://127.0.0.1:4000"
DEFAULT_MIDDLEWARE = "http://127.0.0.1:4001"


class OperatorError(Exception):
    """A command that cannot be done; the message is the one line the operator sees."""


@dataclass(frozen=True)
class Target:
    gateway: str
    middleware: str
    api_key: str | None

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str],
        *,
        url: str | None = None,
        middleware: str | None = None,
        api_key: str | None = None,
    ) -> Target:
        gateway = url or environ.get("TOOLRELAY_URL") or environ.get("LITELLM_PROXY_URL")
        key = api_key or environ.get("TOOLRELAY_API_KEY") or environ.get("LITELLM_PROXY_API_KEY")
        return cls(
            gateway=(gateway or DEFAULT_GATEWAY).rstrip("/"),
            middleware=(
                middleware or environ.get("TOOLRELAY_MIDDLEWARE_URL") or DEFAULT_MIDDLEWARE
            ).rstrip("/"),
            api_key=key or None,
        )

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


class Api:
    """JSON calls to one service; every failure is an OperatorError naming what failed."""

    def __init__(self, base: str, headers: Mapping[str, str], timeout: float = 60.0) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, headers=dict(headers), timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        with translate_errors(self.base):
            response = self.http.request(method, path, json=json, params=params)
        if response.is_error:
            raise OperatorError(f"{method} {path}: {response.status_code} {_error_text(response)}")
        try:
            return response.json()
        except ValueError:
            return response.text

    @contextmanager
    def stream(self, path: str, body: Any) -> Iterator[httpx.Response]:
        with translate_errors(self.base), self.http.stream("POST", path, json=body) as response:
            if response.is_error:
                response.read()
                raise OperatorError(f"POST {path}: {response.status_code} {_error_text(response)}")
            yield response


@contextmanager
def translate_errors(base: str) -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException:
        raise OperatorError(f"{base}: no answer in time") from None
    except httpx.TransportError as exc:
        raise OperatorError(f"{base}: cannot connect ({type(exc).__name__})") from None


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])
    return str(body)[:200]
