"""Throwaway Google service-account keys for tests: a fresh RSA key each time, never a file
in the repository. The public half is registered with the fake upstream's token endpoint."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT = "toolrelay-test"


@dataclass(frozen=True)
class ServiceAccountKey:
    info: dict[str, Any]  # the key file's JSON, as Google's console downloads it
    public_pem: str

    @property
    def email(self) -> str:
        return str(self.info["client_email"])

    def register(self, fake_url: str, *, token_lifetime: int | None = None) -> None:
        body: dict[str, Any] = {
            "client_email": self.email,
            "public_key": self.public_pem,
            "project_id": self.info["project_id"],
        }
        if token_lifetime is not None:
            body["token_lifetime"] = token_lifetime
        response = httpx.post(f"{fake_url}/__fake__/google/service_accounts", json=body, timeout=10)
        response.raise_for_status()

    def with_other_private_key(self) -> ServiceAccountKey:
        """The same account, signed by a key Google never saw: a revoked or forged key."""
        forged = new_service_account(self.info["token_uri"], email=self.email)
        return ServiceAccountKey(
            {**self.info, "private_key": forged.info["private_key"]}, self.public_pem
        )


def new_service_account(
    token_uri: str, *, project: str = PROJECT, email: str | None = None
) -> ServiceAccountKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    name = email or f"gw-{secrets.token_hex(4)}@{project}.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": secrets.token_hex(20),
        "private_key": private_pem,
        "client_email": name,
        "client_id": str(secrets.randbelow(10**20)),
        "token_uri": token_uri,
    }
    return ServiceAccountKey(info, public_pem)
