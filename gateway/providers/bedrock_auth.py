"""Where a `bedrock/` deployment's region, endpoint and credentials come from, and how its
requests are signed (SigV4, with botocore's own signer).

Credentials, first hit wins, as in LiteLLM:
1. `api_key` in litellm_params: a Bedrock API key, sent as `Authorization: Bearer` (no SigV4);
2. `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`) in litellm_params;
3. `AWS_BEARER_TOKEN_BEDROCK` in the environment (a Bedrock API key again);
4. botocore's default chain for `aws_profile_name` (else the default profile): the
   `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` variables, the shared
   credentials and config files, SSO, the container and the instance metadata endpoints.

The region: `aws_region_name`, the region inside an ARN model id, then `AWS_REGION_NAME`,
`AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`. The endpoint: `api_base`,
`aws_bedrock_runtime_endpoint`, `AWS_BEDROCK_RUNTIME_ENDPOINT`, else the region's public one.

A deployment that has no region or no credentials gets a 400 naming what to set, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio.to_thread
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError

from gateway.deployments import Deployment
from gateway.errors import BadRequestError

SIGNING_NAME = "bedrock"  # the runtime's SigV4 service name (bedrock-runtime's model says so)
REGION_VARIABLES = ("AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION")
BEARER_VARIABLE = "AWS_BEARER_TOKEN_BEDROCK"
ENDPOINT_VARIABLE = "AWS_BEDROCK_RUNTIME_ENDPOINT"
# LiteLLM settings that need an STS round trip (assume-role, web identity): not done here, so
# a deployment that names them is refused rather than silently signed as someone else.
UNSUPPORTED_PARAMS = ("aws_role_name", "aws_web_identity_token", "aws_sts_endpoint")


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """A deployment's AWS settings from litellm_params (`os.environ/` already resolved)."""

    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    profile: str | None = None
    endpoint: str | None = None
    api_key: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, deployment: Deployment) -> AwsSettings:
        params = deployment.extra_params

        def text(name: str) -> str | None:
            value = params.get(name)
            return value if isinstance(value, str) and value else None

        for name in UNSUPPORTED_PARAMS:
            if text(name):
                raise BadRequestError(
                    f"deployment {deployment.model_name!r}: litellm_params.{name} (STS role "
                    "assumption) is not supported for bedrock/; give aws_access_key_id and "
                    "aws_secret_access_key (with aws_session_token), or use the AWS "
                    "environment/profile chain",
                    code="unsupported_aws_setting",
                )
        return cls(
            access_key_id=text("aws_access_key_id"),
            secret_access_key=text("aws_secret_access_key"),
            session_token=text("aws_session_token"),
            region=text("aws_region_name") or _arn_region(deployment.model),
            profile=text("aws_profile_name"),
            endpoint=deployment.api_base or text("aws_bedrock_runtime_endpoint"),
            api_key=deployment.api_key,
        )


def _arn_region(model: str) -> str | None:
    """`arn:aws:bedrock:eu-west-1:123:inference-profile/...` -> `eu-west-1`."""
    parts = model.split(":")
    if len(parts) > 3 and parts[0] == "arn" and parts[3]:
        return parts[3]
    return None


@dataclass(frozen=True, slots=True)
class AwsKeys:
    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class SigV4:
    keys: AwsKeys


@dataclass(frozen=True, slots=True)
class Bearer:
    token: str = field(repr=False)


Auth = SigV4 | Bearer


@dataclass(frozen=True, slots=True)
class Target:
    """Where one deployment's requests go and how they are authenticated."""

    region: str
    endpoint: str
    auth: Auth


@dataclass(slots=True)
class _Profile:
    """botocore's view of one AWS profile: its session and region, and the credentials its
    default chain found, searched only when a deployment needs them (the search may call the
    instance metadata endpoint)."""

    session: botocore.session.Session
    region: str | None
    credentials: Credentials | None = None
    searched: bool = False


@dataclass
class AwsAuthority:
    """Resolves each deployment's `Target`; keeps botocore's findings per profile.

    botocore reads files and may call metadata endpoints (blocking I/O), so it runs in a
    worker thread, once per profile; refreshable credentials refresh in a thread too."""

    environ: Mapping[str, str]
    _profiles: dict[str | None, _Profile] = field(default_factory=dict)

    async def target(self, deployment: Deployment) -> Target:
        settings = AwsSettings.of(deployment)
        region = settings.region or self._env_region()
        if region is None:
            region = (await self._profile(deployment, settings.profile)).region
        if region is None:
            raise BadRequestError(
                f"deployment {deployment.model_name!r} (bedrock/{deployment.model}) has no AWS "
                "region: set litellm_params.aws_region_name, or AWS_REGION_NAME / AWS_REGION",
                code="missing_aws_region",
            )
        endpoint = (
            settings.endpoint
            or self.environ.get(ENDPOINT_VARIABLE)
            or f"https://bedrock-runtime.{region}.amazonaws.com"
        ).rstrip("/")
        return Target(region, endpoint, await self._auth(deployment, settings))

    async def _auth(self, deployment: Deployment, settings: AwsSettings) -> Auth:
        if settings.api_key:
            return Bearer(settings.api_key)
        if settings.access_key_id or settings.secret_access_key:
            if not (settings.access_key_id and settings.secret_access_key):
                missing = "aws_secret_access_key" if settings.access_key_id else "aws_access_key_id"
                raise BadRequestError(
                    f"deployment {deployment.model_name!r} (bedrock/{deployment.model}) sets "
                    f"only one of the AWS key pair: litellm_params.{missing} is missing "
                    "(or its os.environ/ variable is unset)",
                    code="missing_aws_credentials",
                )
            return SigV4(
                AwsKeys(settings.access_key_id, settings.secret_access_key, settings.session_token)
            )
        bearer = self.environ.get(BEARER_VARIABLE)
        if bearer:
            return Bearer(bearer)
        profile = await self._profile(deployment, settings.profile)
        with _chain_errors(deployment):
            if not profile.searched:
                profile.credentials = await anyio.to_thread.run_sync(
                    profile.session.get_credentials
                )
                profile.searched = True
            keys = await _frozen(profile.credentials)
        if keys is None:
            raise BadRequestError(
                f"deployment {deployment.model_name!r} (bedrock/{deployment.model}) has no AWS "
                "credentials: set litellm_params.aws_access_key_id and aws_secret_access_key "
                "(or api_key for a Bedrock API key), or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY",
                code="missing_aws_credentials",
            )
        return SigV4(keys)

    def _env_region(self) -> str | None:
        for name in REGION_VARIABLES:
            value = self.environ.get(name)
            if value:
                return value
        return None

    async def _profile(self, deployment: Deployment, name: str | None) -> _Profile:
        profile = self._profiles.get(name)
        if profile is None:
            with _chain_errors(deployment):
                profile = await anyio.to_thread.run_sync(_load_profile, name)
            self._profiles[name] = profile
        return profile


@contextmanager
def _chain_errors(deployment: Deployment) -> Iterator[None]:
    """botocore's chain failing (a profile that is not in the files, an expired SSO login, a
    credential process that exits non-zero) is a configuration problem to name, not a 500."""
    try:
        yield
    except BotoCoreError as exc:
        raise BadRequestError(
            f"deployment {deployment.model_name!r} (bedrock/{deployment.model}): AWS "
            f"credentials could not be loaded: {exc}",
            code="aws_credentials_error",
        ) from exc


async def _frozen(credentials: Credentials | None) -> AwsKeys | None:
    if credentials is None:
        return None
    # Static credentials freeze at once; refreshable ones may call out when they expire.
    frozen = await anyio.to_thread.run_sync(credentials.get_frozen_credentials)
    if not frozen.access_key or not frozen.secret_key:
        return None
    return AwsKeys(frozen.access_key, frozen.secret_key, frozen.token)


def config_problem(deployment: Deployment, environ: Mapping[str, str]) -> str | None:
    """What requests to this deployment would be refused for, found at start-up without the
    network (the credential chain is not searched): a refused setting, half a key pair, no
    region anywhere. Reading the AWS config file for a profile's region is allowed."""
    try:
        settings = AwsSettings.of(deployment)
    except BadRequestError as exc:
        return exc.message
    if bool(settings.access_key_id) != bool(settings.secret_access_key):
        return "only one of litellm_params.aws_access_key_id and aws_secret_access_key is set"
    if settings.region or any(environ.get(name) for name in REGION_VARIABLES):
        return None
    try:
        region = _load_profile(settings.profile).region
    except BotoCoreError as exc:
        return f"AWS profile: {exc}"
    if region is None:
        return "no AWS region: set litellm_params.aws_region_name, or AWS_REGION_NAME / AWS_REGION"
    return None


def _load_profile(name: str | None) -> _Profile:
    session = botocore.session.Session(profile=name)
    region = session.get_config_variable("region")
    return _Profile(session, region if isinstance(region, str) and region else None)


def signed_headers(
    keys: AwsKeys,
    region: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
) -> dict[str, str]:
    """`headers` plus `X-Amz-Date`, `Authorization` (and `X-Amz-Security-Token`), signed over
    the exact URL and body bytes that will be sent. Every header given here is signed."""
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    signer = SigV4Auth(
        Credentials(keys.access_key, keys.secret_key, keys.token),
        SIGNING_NAME,
        region,
    )
    signer.add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


def auth_headers(
    target: Target, url: str, body: bytes, headers: Mapping[str, str]
) -> dict[str, str]:
    if isinstance(target.auth, Bearer):
        return {**headers, "authorization": f"Bearer {target.auth.token}"}
    return signed_headers(target.auth.keys, target.region, url, body, headers)
