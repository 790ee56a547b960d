"""Check a Bedrock request's SigV4 signature the way AWS does: recompute it with botocore's
signer from the known secret of the access key it names, and compare.

The fake knows a few credentials (`TEST_CREDENTIALS`): a long-term key pair, and a temporary
one that must come with its session token. It also takes Bedrock API keys (`Authorization:
Bearer`, `TEST_API_KEY`). What goes wrong is answered with the error AWS gives for it:

    no Authorization header                  403 MissingAuthenticationTokenException
    unknown key id, wrong session token      403 UnrecognizedClientException
    wrong secret (signature mismatch),
    wrong service or date, clock skew        403 InvalidSignatureException
    a malformed Authorization header         403 IncompleteSignatureException
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "bedrock"
MAX_SKEW_SECONDS = 300  # AWS refuses a request signed more than 5 minutes away


@dataclass(frozen=True, slots=True)
class KnownCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


PERMANENT = KnownCredentials("AKIAFAKEUPSTREAM0001", "fake/upstream+secret-access-key-0001")
TEMPORARY = KnownCredentials(
    "ASIAFAKEUPSTREAM0002", "fake/upstream+secret-access-key-0002", "fake-session-token-0002"
)
TEST_CREDENTIALS = {c.access_key_id: c for c in (PERMANENT, TEMPORARY)}
TEST_API_KEY = "bedrock-api-key-fake-upstream"

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True, slots=True)
class AuthProblem:
    status: int
    error_type: str
    message: str


def _invalid_signature(message: str) -> AuthProblem:
    return AuthProblem(403, "InvalidSignatureException", message)


UNRECOGNIZED = AuthProblem(
    403, "UnrecognizedClientException", "The security token included in the request is invalid."
)
MISMATCH = _invalid_signature(
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What the check needs of a request, exactly as received (`raw_path` still escaped)."""

    method: str
    raw_path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


def check(request: SignedRequest, now: datetime | None = None) -> AuthProblem | None:
    authorization = request.headers.get("authorization")
    if authorization is None:
        return AuthProblem(
            403, "MissingAuthenticationTokenException", "Missing Authentication Token"
        )
    if authorization.startswith("Bearer "):
        given = authorization.removeprefix("Bearer ").encode()
        return None if hmac.compare_digest(given, TEST_API_KEY.encode()) else UNRECOGNIZED
    parsed = _AUTHORIZATION.match(authorization)
    if parsed is None:
        return AuthProblem(
            403,
            "IncompleteSignatureException",
            f"Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            f"parameters. Authorization={authorization[:40]}",
        )
    key_id, date, region, service, terminal = (parsed["credential"].split("/") + [""] * 5)[:5]
    known = TEST_CREDENTIALS.get(key_id)
    if known is None:
        return UNRECOGNIZED
    if service != SERVICE or terminal != "aws4_request":
        return _invalid_signature(f"Credential should be scoped to correct service: '{SERVICE}'.")
    if request.headers.get("x-amz-security-token") != known.session_token:
        return UNRECOGNIZED
    signed = parsed["signed"].split(";")
    problem = _check_date(request.headers.get("x-amz-date"), date, signed, now)
    if problem is not None:
        return problem
    if "host" not in signed or (known.session_token and "x-amz-security-token" not in signed):
        return _invalid_signature("'Host' and 'X-Amz-Security-Token' must be signed headers.")
    missing = [name for name in signed if name not in request.headers]
    if missing:
        return _invalid_signature(f"Signed header {missing[0]!r} is not in the request.")
    declared = request.headers.get("x-amz-content-sha256")
    if declared is not None and declared != hashlib.sha256(request.body).hexdigest():
        # the signature would cover the declared hash, not the body that came
        return AuthProblem(
            400,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    expected = _signature(request, known, region, signed)
    if not hmac.compare_digest(expected.encode(), parsed["signature"].encode()):
        return MISMATCH
    return None


def _check_date(
    amz_date: str | None, scope_date: str, signed: list[str], now: datetime | None
) -> AuthProblem | None:
    if amz_date is None or "x-amz-date" not in signed:
        return _invalid_signature("X-Amz-Date must be present and signed.")
    try:
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return _invalid_signature(f"X-Amz-Date {amz_date!r} is not in ISO8601 basic format.")
    if amz_date[:8] != scope_date:
        return _invalid_signature(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope_date}' != '{amz_date[:8]}'"
        )
    skew = abs(((now or datetime.now(UTC)) - when).total_seconds())
    if skew > MAX_SKEW_SECONDS:
        return _invalid_signature(
            f"Signature expired: {amz_date} is now earlier or later than the allowed skew."
        )
    return None


def _signature(
    request: SignedRequest, known: KnownCredentials, region: str, signed: list[str]
) -> str:
    """botocore's SigV4 over the received request, with only the headers the client signed."""
    host = request.headers["host"]
    url = f"http://{host}{request.raw_path}" + (f"?{request.query}" if request.query else "")
    aws_request = AWSRequest(
        method=request.method,
        url=url,
        data=request.body,
        headers={name: request.headers[name] for name in signed},
    )
    aws_request.context["timestamp"] = request.headers["x-amz-date"]
    signer = SigV4Auth(
        Credentials(known.access_key_id, known.secret_access_key, known.session_token),
        SERVICE,
        region,
    )
    canonical = signer.canonical_request(aws_request)
    return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
