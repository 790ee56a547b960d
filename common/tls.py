"""TLS verification for the HTTP clients toolrelay makes, resolved one way for all of them.

An `ssl_verify` setting is LiteLLM's: `true` (verify against the default CA bundle),
`false` (do not verify), or the path of a CA bundle (verify against that bundle only, as
`requests`' `verify=` and LiteLLM do). Where a setting comes from, most specific first:

1. the item's own `ssl_verify` (a deployment's `litellm_params`, an MCP server entry);
2. `SSL_VERIFY` in the environment (`true`, `false` or a path), which LiteLLM lets win over
   the file's settings;
3. the section's default (`litellm_settings.ssl_verify`, `middleware_settings.ssl_verify`);
4. verify against the default bundle: `SSL_CERT_FILE`, else `REQUESTS_CA_BUNDLE`, else
   certifi's (LiteLLM's default, and httpx's), so every client trusts the same CAs.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import certifi
from pydantic import AfterValidator

# The value of a setting once read: True, False or a CA bundle (file or OpenSSL hashed dir).
Verify = bool | Path

VERIFY_ENV = "SSL_VERIFY"
CA_BUNDLE_ENVS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class TlsSettingError(ValueError):
    """An `ssl_verify` value or CA bundle that cannot be used; the message says why."""


def parse_verify(value: bool | str) -> Verify:
    """`True`/`False`, their spellings as text (YAML `"False"`, env `SSL_VERIFY=false`), or a
    CA bundle path that must exist."""
    if isinstance(value, bool):
        return value
    text = value.strip()
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    if not text:
        raise TlsSettingError("expected true, false or the path of a CA bundle, got ''")
    path = Path(text).expanduser()
    if not path.exists():
        raise TlsSettingError(f"CA bundle {text!r} does not exist")
    return path


def resolve_verify(
    own: bool | str | None, section: bool | str | None, environ: Mapping[str, str]
) -> Verify:
    """The setting that applies to one client (see the module docstring for the order)."""
    if own is not None:
        return parse_verify(own)
    from_env = environ.get(VERIFY_ENV)
    if from_env:
        try:
            return parse_verify(from_env)
        except TlsSettingError as exc:
            raise TlsSettingError(f"{VERIFY_ENV}: {exc}") from None
    if section is not None:
        return parse_verify(section)
    return True


def default_ca_bundle(environ: Mapping[str, str]) -> Path:
    for name in CA_BUNDLE_ENVS:
        value = environ.get(name)
        if value:
            path = Path(value).expanduser()
            if not path.exists():
                raise TlsSettingError(f"{name}: CA bundle {value!r} does not exist")
            return path
    return Path(certifi.where())


def describe(verify: Verify) -> str:
    if verify is True:
        return "verify (default CA bundle)"
    if verify is False:
        return "no verification"
    return f"verify with CA bundle {verify}"


class SslContexts:
    """One `ssl.SSLContext` per distinct setting, built on first use and then shared.

    Building a context parses a whole CA bundle (certifi's is about 150 certificates), and
    pooled clients (aiohttp) keep connections apart per context object, so every client that
    asks for the same setting gets the same object. Owned by one app, never module state."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._built: dict[Verify, ssl.SSLContext] = {}

    def get(self, verify: Verify) -> ssl.SSLContext:
        context = self._built.get(verify)
        if context is None:
            context = self._build(verify)
            self._built[verify] = context
        return context

    def _build(self, verify: Verify) -> ssl.SSLContext:
        if verify is False:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        bundle = default_ca_bundle(self._environ) if verify is True else verify
        try:
            if bundle.is_dir():
                return ssl.create_default_context(capath=str(bundle))
            return ssl.create_default_context(cafile=str(bundle))
        except (ssl.SSLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc.strerror or str(exc)
            raise TlsSettingError(
                f"cannot load CA bundle {str(bundle)!r}: {reason} (expected PEM certificates)"
            ) from None


def checked_setting(value: bool | str) -> bool | str:
    """For config validators: `true`/`false` spellings become booleans, and a CA bundle
    path must exist and hold certificates, so a bad one fails at load, naming its key."""
    verify = parse_verify(value)
    if isinstance(verify, bool):
        return verify
    SslContexts({}).get(verify)
    return str(verify)


# A config field: LiteLLM's `ssl_verify` (bool, or the path of a CA bundle).
SslVerifySetting = Annotated[bool | str, AfterValidator(checked_setting)]
