"""A small web site on loopback for the fetch and browser tests; it records every hit."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.mcp_servers.support import serve_in_thread

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)

PAGE_HTML = """<!doctype html>
<html><head><title>Test Page</title>
<style>body { color: red; }</style>
<script>var tracking = "SCRIPT-NOISE";</script></head>
<body>
<nav><a href="/">NAV-NOISE home</a></nav>
<header>HEADER-NOISE</header>
<main>
<h1>Hello <em>world</em></h1>
<p>First paragraph with a <a href="/other">link</a>.</p>
<ul><li>alpha</li><li>beta</li></ul>
</main>
<footer>FOOTER-NOISE</footer>
</body></html>"""

FORM_HTML = """<!doctype html>
<html><head><title>Form</title></head><body>
<h1>Greeter</h1>
<input id="name" type="text">
<button id="go" onclick="document.getElementById('out').textContent = 'Hello, ' + document.getElementById('name').value + '!'">Go</button>
<p id="out">nobody yet</p>
<div id="hidden-thing" style="display:none">INVISIBLE-TEXT</div>
</body></html>"""

STATE_HTML = """<!doctype html>
<html><head><title>State</title></head><body><p id="state"></p>
<script>
const set = new URLSearchParams(location.search).get("set");
if (set) { localStorage.setItem("k", set); document.cookie = "k=" + set + "; path=/"; }
document.getElementById("state").textContent =
  "cookie=[" + document.cookie + "] storage=[" + (localStorage.getItem("k") || "") + "]";
</script></body></html>"""


# Subresources of /leaky.html: every one is loopback, none is the allowed name "localhost".
LEAKY_TARGETS = (
    ("img-ip", "127.0.0.1"),
    ("img-decimal", "2130706433"),
    ("img-octal", "0177.0.0.1"),
    ("img-hex", "0x7f.1"),
    ("img-v6", "[::1]"),
    ("img-mapped", "[::ffff:127.0.0.1]"),
    ("img-zero", "0.0.0.0"),
)


@dataclass
class Site:
    """The running site: its base URL and the paths it has served."""

    url: str = ""
    hits: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def record(self, path: str) -> None:
        with self.lock:
            self.hits.append(path)

    def was_hit(self, prefix: str) -> bool:
        with self.lock:
            return any(hit.startswith(prefix) for hit in self.hits)


def _app(site: Site) -> ASGIApp:
    async def page(_: Request) -> Response:
        return HTMLResponse(PAGE_HTML)

    async def long_page(_: Request) -> Response:
        paragraphs = "".join(f"<p>Paragraph {i:04d} {'x' * 80}</p>" for i in range(150))
        return HTMLResponse(f"<html><body><main>{paragraphs}</main></body></html>")

    async def data(_: Request) -> Response:
        return JSONResponse({"name": "toolrelay", "items": [1, 2, 3], "nested": {"ok": True}})

    async def text(_: Request) -> Response:
        return PlainTextResponse("plain text body\nsecond line")

    async def image(_: Request) -> Response:
        return Response(PNG, media_type="image/png")

    async def large(_: Request) -> Response:
        return PlainTextResponse("y" * 300_000)

    async def large_stream(_: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(300):
                yield b"z" * 1000

        return StreamingResponse(chunks(), media_type="text/plain")

    async def slow(_: Request) -> Response:
        await anyio.sleep(30)
        return PlainTextResponse("too late")

    async def redirect(request: Request) -> Response:
        return RedirectResponse(request.query_params.get("to", "/page.html"), status_code=302)

    async def loop(_: Request) -> Response:
        return RedirectResponse("/loop", status_code=302)

    async def robots(_: Request) -> Response:
        return PlainTextResponse("User-agent: *\nDisallow: /private\n")

    async def secret(request: Request) -> Response:
        return PlainTextResponse(f"SECRET {request.url.path}")

    async def missing(_: Request) -> Response:
        return PlainTextResponse("nope", status_code=404)

    async def form(_: Request) -> Response:
        return HTMLResponse(FORM_HTML)

    async def state(_: Request) -> Response:
        return HTMLResponse(STATE_HTML)

    async def leaky(request: Request) -> Response:
        # Served from an allowed host name; pulls resources from refused spellings of loopback.
        port = request.url.port
        items = "".join(
            f'<img src="http://{host}:{port}/secret/{label}">' for label, host in LEAKY_TARGETS
        )
        html = f"""<!doctype html><html><head><title>Leaky</title></head><body>
<p>leaky page</p>{items}
<script>fetch("http://127.0.0.1:{port}/secret/fetch-js").catch(() => {{}});</script>
<iframe src="http://127.0.0.1:{port}/secret/frame"></iframe>
</body></html>"""
        return HTMLResponse(html)

    routes = [
        Route("/page.html", page),
        Route("/long.html", long_page),
        Route("/data.json", data),
        Route("/text.txt", text),
        Route("/image.png", image),
        Route("/large.txt", large),
        Route("/large-stream.txt", large_stream),
        Route("/slow", slow),
        Route("/redirect", redirect),
        Route("/loop", loop),
        Route("/robots.txt", robots),
        Route("/private/{rest:path}", secret),
        Route("/secret/{rest:path}", secret),
        Route("/missing", missing),
        Route("/form.html", form),
        Route("/state.html", state),
        Route("/leaky.html", leaky),
    ]
    app = Starlette(routes=routes)

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            site.record(scope["path"])
        await app(scope, receive, send)

    return recording


@contextmanager
def running_site() -> Iterator[Site]:
    site = Site()
    with serve_in_thread(_app(site)) as url:
        site.url = url
        yield site
