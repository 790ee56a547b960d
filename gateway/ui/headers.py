"""Security headers for the admin page and its assets.

The page loads nothing from elsewhere and runs no inline script, so the policy can be strict:
a script injected into the page (or a framing site) gets nowhere. `StaticFiles` is wrapped
in `WithHeaders` (common.asgi_headers), so the assets carry the same headers as the page.
"""

from __future__ import annotations

from collections.abc import Mapping

from common.asgi_headers import WithHeaders

__all__ = ["ADMIN_PAGE_HEADERS", "CONTENT_SECURITY_POLICY", "WithHeaders"]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
ADMIN_PAGE_HEADERS: Mapping[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
}
