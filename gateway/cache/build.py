"""Build the response cache from `litellm_settings`: one factory per backend type."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from gateway.cache.backends import CacheBackend
from gateway.cache.backends.local import LocalBackend
from gateway.cache.response_cache import ResponseCache
from gateway.cache.settings import CacheParams, parse_cache_params
from gateway.config import ConfigError, LoadedConfig

if TYPE_CHECKING:
    from gateway.redis_wiring import SharedRedis

BackendFactory = Callable[
    [CacheParams, LoadedConfig, Mapping[str, str], "SharedRedis | None"], CacheBackend
]


def _local(
    params: CacheParams,
    _config: LoadedConfig,
    _env: Mapping[str, str],
    _shared: SharedRedis | None,
) -> CacheBackend:
    return LocalBackend(max_entries=params.max_size_in_memory)


def _redis_url(params: CacheParams, config: LoadedConfig, env: Mapping[str, str]) -> str:
    explicit = params.url or params.redis_url
    if explicit:
        return explicit
    host = params.host or env.get("REDIS_HOST")
    if host:
        password = params.password or env.get("REDIS_PASSWORD")
        auth = f":{password}@" if password else ""
        return f"redis://{auth}{host}:{params.port or env.get('REDIS_PORT') or 6379}/0"
    if config.redis_url:
        return config.redis_url
    raise ConfigError(
        "litellm_settings.cache_params: type redis needs host/port (or url, or REDIS_URL)"
    )


def _redis(
    params: CacheParams,
    config: LoadedConfig,
    env: Mapping[str, str],
    shared: SharedRedis | None,
) -> CacheBackend:
    url = _redis_url(params, config, env)
    # Imported here: only a gateway with Redis loads redis-py (about 7 MB resident).
    from gateway.cache.backends.redis import RedisBackend

    if shared is not None and url == shared.url:
        return RedisBackend(shared.client, owns_client=False)
    return RedisBackend.from_url(url)


def _s3(
    params: CacheParams,
    _config: LoadedConfig,
    env: Mapping[str, str],
    _shared: SharedRedis | None,
) -> CacheBackend:
    if not params.s3_bucket_name:
        raise ConfigError("litellm_settings.cache_params.s3_bucket_name: required for type s3")
    # imported here: the S3 client (minio, urllib3, pycryptodome) is ~6 MB of RSS and a
    # second of start-up that a gateway without an S3 cache never uses
    from gateway.cache.backends.s3 import S3Backend

    return S3Backend.create(
        bucket=params.s3_bucket_name,
        endpoint_url=params.s3_endpoint_url,
        access_key=params.s3_aws_access_key_id or env.get("AWS_ACCESS_KEY_ID"),
        secret_key=params.s3_aws_secret_access_key or env.get("AWS_SECRET_ACCESS_KEY"),
        session_token=params.s3_aws_session_token or env.get("AWS_SESSION_TOKEN"),
        region=params.s3_region_name or env.get("AWS_REGION"),
        use_ssl=params.s3_use_ssl,
        verify=params.s3_verify,
        prefix=params.s3_path,
    )


BACKENDS: dict[str, BackendFactory] = {"local": _local, "redis": _redis, "s3": _s3}


def build_response_cache(
    config: LoadedConfig,
    environ: Mapping[str, str] | None = None,
    redis: SharedRedis | None = None,
) -> ResponseCache:
    settings = config.file.litellm_settings
    if not settings.cache:
        return ResponseCache()
    params = parse_cache_params(settings.cache_params)
    env = os.environ if environ is None else environ
    backend = BACKENDS[params.type](params, config, env, redis)
    return ResponseCache(backend=backend, params=params)
