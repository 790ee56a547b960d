"""`toolrelay up` on a clean TOOLRELAY_HOME with no S3 settings runs SeaweedFS itself: the
storage server lists buckets, and a browser screenshot called through the middleware's REST
becomes a presigned S3 link that downloads a PNG. Every process is real and stopped."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from tests.mcp_servers.storage.conftest import call
from tests.mcp_servers.support import mcp_client
from tests.support.components import require_component
from tests.support.processes import free_port
from tests.support.seaweedfs import require_seaweedfs
from tests.toolrelay.test_cli import read_until, start_up, stop_up

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(300)]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM = "/usr/bin/chromium"


def url_of(banner: str, service: str) -> str:
    line = next(line for line in banner.splitlines() if line.strip().startswith(service + " "))
    return line.split()[-1]


def drain(process: subprocess.Popen[str]) -> None:
    """Keep reading the services' logs so a full pipe never blocks them."""
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: stdout.read(), daemon=True).start()


def port_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def chromium() -> str:
    require_seaweedfs()
    require_component(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM}")
    return CHROMIUM


async def test_clean_home_gets_an_embedded_s3_store(tmp_path: Path, chromium: str) -> None:
    s3_port = free_port()
    process, gateway_port = start_up(tmp_path, {"TOOLRELAY_CHROMIUM": chromium}, s3_port=s3_port)
    ports: list[int] = []
    try:
        banner = read_until(process, "Ctrl-C to stop")
        drain(process)
        assert f"chose        s3: embedded SeaweedFS at http://127.0.0.1:{s3_port}" in banner
        ports = [int(url_of(banner, name).rsplit(":", 1)[1]) for name in ("s3", "gateway")]
        home = tmp_path / "home"
        credentials = home / "s3" / "credentials.json"
        assert credentials.stat().st_mode & 0o777 == 0o600
        assert set(json.loads(credentials.read_text())) == {"access_key", "secret_key"}

        async with mcp_client(url_of(banner, "mcp storage"), "streamable-http") as client:
            is_error, text = await call(client, "minio_list_buckets")
        assert not is_error, text
        assert "mcp-storage (default)" in text

        key = (home / "master_key").read_text().strip()
        async with httpx.AsyncClient(timeout=60) as http:
            response = await http.post(
                f"{url_of(banner, 'middleware')}/mcp/tools/call",
                headers={"authorization": f"Bearer {key}"},
                json={"name": "browser_screenshot", "arguments": {}},
            )
            assert response.status_code == 200, response.text
            image = response.json()["content"][0]
            assert image["type"] == "image" and image["mimeType"] == "image/png"
            assert image["url"].startswith(f"http://127.0.0.1:{s3_port}/mcp-storage/")
            assert "X-Amz-Signature=" in image["url"]
            download = await http.get(image["url"])
            assert download.status_code == 200
            assert download.content.startswith(PNG_SIGNATURE)
            assert len(download.content) == image["size"]
            unsigned = await http.get(image["url"].split("?")[0])
            assert unsigned.status_code == 403
    finally:
        returncode = stop_up(process, signal.SIGTERM)
    assert returncode == 0
    assert all(port_closed(port) for port in [*ports, gateway_port])
