"""Vertex AI: Gemini's `generateContent`/`streamGenerateContent?alt=sse` and Claude's
`rawPredict`/`streamRawPredict` under
`/v1/projects/{project}/locations/{location}/publishers/{google|anthropic}/models/{model}:...`,
plus the Google OAuth token endpoint (`/token`, see `google_oauth`) that mints the bearer
tokens these routes demand.

Each request must carry a live token minted by `/token`, for an account of the project in
the URL (else 401 UNAUTHENTICATED or 403 PERMISSION_DENIED, as Vertex answers), and name a
real region. Gemini bodies are checked and answered as the Gemini API's are; Claude bodies as
Anthropic's, except that the model is in the URL and `anthropic_version` (`vertex-2023-10-16`)
in the body.
"""

from __future__ import annotations

from typing import Any

import orjson

from .. import google_oauth
from ..exchange import Exchange
from ..reply import ReplyError
from ..state import UpstreamState
from . import Route, anthropic, gemini
from .anthropic_wire import invalid as anthropic_invalid
from .anthropic_wire import parse as parse_anthropic

BASE = "/projects/{project}/locations/{location}/publishers"
ANTHROPIC_VERSION = "vertex-2023-10-16"
LOCATIONS = frozenset(
    {
        "global",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west4",
        "northamerica-northeast1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west9",
        "asia-northeast1",
        "asia-southeast1",
        "australia-southeast1",
    }
)


def google_error(status: int, rpc_status: str, message: str) -> bytes:
    return orjson.dumps({"error": {"code": status, "message": message, "status": rpc_status}})


async def _refuse(state: UpstreamState, exchange: Exchange) -> bool:
    """Answer the error and return True when the token, project or region is wrong."""
    header = exchange.header(b"authorization") or b""
    token = header[len(b"Bearer ") :].decode("latin-1") if header.startswith(b"Bearer ") else ""
    account = state.google.holder(token) if token else None
    project = exchange.path_params["project"]
    location = exchange.path_params["location"]
    if account is None:
        await exchange.respond(
            401,
            google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
            ),
        )
        return True
    if account.project != project:
        resource = f"projects/{project}/locations/{location}"
        await exchange.respond(
            403,
            google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'aiplatform.endpoints.predict' denied on resource "
                f"'//aiplatform.googleapis.com/{resource}' (or it may not exist).",
            ),
        )
        return True
    if location not in LOCATIONS:
        await exchange.respond(
            400, google_error(400, "INVALID_ARGUMENT", f"Unsupported region: {location}")
        )
        return True
    return False


async def generate(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    if not await _refuse(state, exchange):
        await gemini.generate(state, exchange, body)


async def stream_generate(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    if not await _refuse(state, exchange):
        await gemini.stream_generate(state, exchange, body)


def _claude_request(body: Any, model: str, stream: bool) -> Any:
    if not isinstance(body, dict):
        return anthropic_invalid("The request body is not valid JSON.")
    if body.get("anthropic_version") != ANTHROPIC_VERSION:
        return anthropic_invalid(f"anthropic_version: must be {ANTHROPIC_VERSION!r}")
    if "model" in body:
        return anthropic_invalid("model: Extra inputs are not permitted (the URL names it)")
    if bool(body.get("stream")) != stream:
        method = "streamRawPredict" if stream else "rawPredict"
        return anthropic_invalid(f"stream must be {str(stream).lower()} for {method}")
    rest = {k: v for k, v in body.items() if k != "anthropic_version"}
    return parse_anthropic({**rest, "model": model}, b"2023-06-01")


async def _claude(state: UpstreamState, exchange: Exchange, body: Any, stream: bool) -> None:
    if await _refuse(state, exchange):
        return
    parsed = _claude_request(body, exchange.path_params["model"], stream)
    await anthropic.answer(state, exchange, parsed)


async def raw_predict(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await _claude(state, exchange, body, stream=False)


async def stream_raw_predict(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await _claude(state, exchange, body, stream=True)


async def oauth_token(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await google_oauth.token(state.google, exchange)


def _google_error_body(error: ReplyError) -> bytes:
    return gemini.error_body(error)


def routes() -> list[Route]:
    def vertex(path: str, handler: Any, error_body: Any) -> Route:
        # Authenticated by the minted bearer token inside the handler, not `--require-key`.
        return Route("POST", f"{BASE}/{path}", handler, error_body, authenticated=False)

    return [
        Route("POST", "/token", oauth_token, _google_error_body, authenticated=False),
        vertex("google/models/{model}:generateContent", generate, gemini.error_body),
        vertex("google/models/{model}:streamGenerateContent", stream_generate, gemini.error_body),
        vertex("anthropic/models/{model}:rawPredict", raw_predict, anthropic.error_body),
        vertex(
            "anthropic/models/{model}:streamRawPredict", stream_raw_predict, anthropic.error_body
        ),
    ]


__all__ = ["routes"]
