"""TLS verification of the MCP servers the middleware connects to over HTTP(S).

Each server's `ssl_verify` (`mcp_servers.NAME.ssl_verify`), else `SSL_VERIFY`, else
`middleware_settings.ssl_verify`, else the default CA bundle: the order `common.tls` gives
every client toolrelay makes. stdio servers have no connection to verify.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import structlog

from common.tls import SslContexts, resolve_verify
from middleware.config_sections import McpServerEntry

logger = structlog.get_logger("middleware.mcp")


def server_ssl_contexts(
    servers: Mapping[str, McpServerEntry],
    default: bool | str | None,
    environ: Mapping[str, str],
    contexts: SslContexts,
) -> dict[str, ssl.SSLContext]:
    """Each HTTP server's context. Raises `common.tls.TlsSettingError` for a setting (or
    SSL_VERIFY, SSL_CERT_FILE) it cannot use; warns once about servers left unverified."""
    chosen: dict[str, ssl.SSLContext] = {}
    unverified: list[str] = []
    for name, entry in servers.items():
        if entry.transport == "stdio":
            continue
        verify = resolve_verify(entry.ssl_verify, default, environ)
        if verify is False:
            unverified.append(name)
        chosen[name] = contexts.get(verify)
    if unverified:
        logger.warning(
            "TLS certificates of these MCP servers are NOT verified (ssl_verify: false); "
            "anyone on the path can read and alter tool calls and results",
            servers=sorted(unverified),
        )
    return chosen


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind a failed connection, if that is what failed (the SDK and httpx2
    wrap it in their own errors and exception groups)."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


def describe_tls_failure(name: str, url: str | None, error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"the TLS certificate of {url} failed verification ({error.verify_message}); "
            f"if a private CA signed it, set mcp_servers.{name}.ssl_verify (or "
            "middleware_settings.ssl_verify) to that CA's bundle"
        )
    return f"the TLS handshake with {url} failed ({error.reason or error})"
