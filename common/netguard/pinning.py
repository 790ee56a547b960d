"""Send a request to the address the guard checked, keeping the name it was addressed to."""

from __future__ import annotations

import httpx

from common.netguard.guard import CheckedTarget


def pin_to_target(request: httpx.Request, target: CheckedTarget) -> None:
    """Point `request`'s socket at `target.ip`, in place.

    httpx took the Host header from the original URL when the request was built, and the TLS
    server name is set to the original host, so virtual hosting and certificate checks still
    see the name; only the connection goes to the pinned address (no second DNS lookup that a
    rebinding answer could change).
    """
    request.url = request.url.copy_with(host=str(target.ip))
    if target.scheme == "https":
        request.extensions = {**request.extensions, "sni_hostname": target.host}
