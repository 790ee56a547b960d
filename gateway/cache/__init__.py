"""Exact-match response cache (in memory, Redis or S3) with LiteLLM's per-request controls."""

from gateway.cache.build import build_response_cache
from gateway.cache.controls import CacheControls, parse_controls
from gateway.cache.keys import cache_key
from gateway.cache.response_cache import CacheLookup, ResponseCache
from gateway.cache.streaming import ChunkAssembler, chunks_from_completion

__all__ = [
    "CacheControls",
    "CacheLookup",
    "ChunkAssembler",
    "ResponseCache",
    "build_response_cache",
    "cache_key",
    "chunks_from_completion",
    "parse_controls",
]
