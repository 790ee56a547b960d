"""Which TLS verification each upstream connection gets.

`litellm_settings.ssl_verify` (or `SSL_VERIFY`, see `common.tls`) applies to every
upstream; a deployment's own `litellm_params.ssl_verify` applies to its `api_base` host.

Why by host and not by deployment: providers share one pooled client and build their
requests themselves, so the transport sees a URL, never a deployment; and a certificate
belongs to a host anyway, whichever deployment names it. So the table is small (only hosts
with a setting of their own), one lookup per request, and it covers every caller of the
shared client (providers, pass-through routes, token counting) with no plumbing. One
`ssl.SSLContext` is built per distinct setting (`SslContexts`), and aiohttp keeps pooled
connections apart per context, so a private-CA upstream never reuses a connection that was
verified differently. A deployment without `api_base` talks to its provider's public
endpoint, so its own `ssl_verify` has nothing to apply to: it is named in a warning.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import httpx
import structlog

from common.tls import SslContexts, TlsSettingError, Verify, describe, parse_verify, resolve_verify
from gateway.deployments import Deployment

log = structlog.get_logger("toolrelay.gateway")

Origin = tuple[str, int]
DEFAULT_PORTS = {"https": 443, "http": 80}


def origin_of(url: httpx.URL) -> Origin:
    return url.host, url.port or DEFAULT_PORTS.get(url.scheme, 443)


@dataclass
class UpstreamTls:
    """The default context, and the hosts whose deployments chose another setting."""

    contexts: SslContexts
    default_verify: Verify
    default: ssl.SSLContext
    overrides: dict[Origin, ssl.SSLContext] = field(default_factory=dict)

    def override_for(self, url: httpx.URL) -> ssl.SSLContext | None:
        """The context for `url` when its host has its own setting; None: the default."""
        if not self.overrides:
            return None
        return self.overrides.get(origin_of(url))

    def apply(self, deployments: Iterable[Deployment]) -> None:
        """Rebuild the host table (at start, and when stored models change)."""
        self.overrides = self._table(deployments)

    def _table(self, deployments: Iterable[Deployment]) -> dict[Origin, ssl.SSLContext]:
        chosen: dict[Origin, tuple[Verify, str]] = {}
        for deployment in deployments:
            if deployment.ssl_verify is None:
                continue
            if not deployment.api_base:
                log.warning(
                    "ssl_verify on a deployment without api_base has no host to apply to; "
                    "its provider's endpoint gets litellm_settings.ssl_verify",
                    model_name=deployment.model_name,
                )
                continue
            try:
                verify = parse_verify(deployment.ssl_verify)
                self.contexts.get(verify)
            except TlsSettingError as exc:  # checked at load; the file went away since
                log.error(
                    "deployment skipped for TLS: its ssl_verify cannot be used; its host "
                    "gets the default verification",
                    model_name=deployment.model_name,
                    error=str(exc),
                )
                continue
            origin = origin_of(httpx.URL(deployment.api_base))
            first = chosen.setdefault(origin, (verify, deployment.model_name))
            if first[0] != verify:
                log.warning(
                    "deployments of one host disagree on ssl_verify; the first one applies",
                    host=f"{origin[0]}:{origin[1]}",
                    applied=f"{first[1]}: {describe(first[0])}",
                    ignored=f"{deployment.model_name}: {describe(verify)}",
                )
        return {origin: self.contexts.get(verify) for origin, (verify, _) in chosen.items()}


def build_upstream_tls(
    setting: bool | str | None,
    deployments: list[Deployment],
    environ: Mapping[str, str],
) -> UpstreamTls:
    """Raises `TlsSettingError` for a setting (or SSL_VERIFY, SSL_CERT_FILE) it cannot use."""
    contexts = SslContexts(environ)
    default_verify = resolve_verify(None, setting, environ)
    tls = UpstreamTls(contexts, default_verify, contexts.get(default_verify))
    tls.apply(deployments)
    _warn_unverified(default_verify, deployments)
    return tls


def check_default_tls(setting: bool | str | None, environ: Mapping[str, str]) -> None:
    """Raise `TlsSettingError` now if the default setting (or SSL_VERIFY, SSL_CERT_FILE)
    cannot be used: for a parent process about to start workers that would each fail."""
    SslContexts(environ).get(resolve_verify(None, setting, environ))


def _warn_unverified(default_verify: Verify, deployments: list[Deployment]) -> None:
    """One warning at start naming everything that is not verified."""
    own_off = [
        d.model_name
        for d in deployments
        if d.ssl_verify is not None and d.api_base and parse_verify(d.ssl_verify) is False
    ]
    if default_verify is False:
        log.warning(
            "TLS certificates of upstreams are NOT verified (ssl_verify: false or "
            "SSL_VERIFY=false); anyone on the path can read and alter LLM traffic"
        )
    elif own_off:
        log.warning(
            "TLS certificates are NOT verified for these deployments (ssl_verify: false); "
            "anyone on the path can read and alter their traffic",
            model_names=sorted(set(own_off)),
        )


__all__ = [
    "TlsSettingError",
    "UpstreamTls",
    "build_upstream_tls",
    "check_default_tls",
    "origin_of",
]
