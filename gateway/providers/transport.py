"""HTTP plumbing shared by the native-format providers: one JSON POST, streamed POSTs,
and for media a multipart upload and a POST whose binary body is relayed as it arrives.

Both map failures at the one boundary (`gateway.providers.errors`), passing the provider's
`classify` hook so its structured error types become the right gateway classes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass

import httpx
import orjson

from gateway.errors import GatewayError
from gateway.providers.base import JSON
from gateway.providers.errors import (
    Classifier,
    error_from_status,
    error_from_transport,
    malformed_response,
)
from gateway.providers.media import Answer, AudioForm, BinaryStream
from gateway.upstream_http import post_bytes, stream_post


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where and how one provider call goes: the provider name is used in error messages."""

    http: httpx.AsyncClient
    provider: str
    classify: Classifier | None = None

    async def post_json(
        self, url: str, body: JSON, headers: Mapping[str, str], upstream_timeout: float
    ) -> JSON:
        return await self.post_bytes(url, orjson.dumps(body), headers, upstream_timeout)

    async def post_bytes(
        self, url: str, content: bytes, headers: Mapping[str, str], upstream_timeout: float
    ) -> JSON:
        """POST a body already serialised (a signed request must send the bytes it signed)."""
        try:
            # parsed as httpx would have, so the direct path sends the same request line
            response = await post_bytes(
                self.http, httpx.URL(url), content, headers, upstream_timeout
            )
        except httpx.HTTPError as exc:
            raise error_from_transport(self.provider, exc) from exc
        if response.status_code >= 400:
            raise error_from_status(
                self.provider,
                response.status_code,
                response.content,
                response.headers,
                classify=self.classify,
            )
        return self.parse_object(response.content)

    async def stream_lines(
        self, url: str, body: JSON, headers: Mapping[str, str], upstream_timeout: float
    ) -> AsyncIterator[str]:
        """The response body line by line; an error status raises before the first line."""
        try:
            async with stream_post(
                self.http, httpx.URL(url), orjson.dumps(body), headers, upstream_timeout
            ) as response:
                if response.status_code >= 400:
                    content = await response.aread()
                    raise error_from_status(
                        self.provider,
                        response.status_code,
                        content,
                        response.headers,
                        classify=self.classify,
                    )
                async for line in response.aiter_lines():
                    yield line
        except httpx.HTTPError as exc:
            raise error_from_transport(self.provider, exc) from exc

    async def post_form(
        self,
        url: str | httpx.URL,
        form: AudioForm,
        headers: Mapping[str, str],
        upstream_timeout: float,
    ) -> Answer:
        """A `multipart/form-data` upload (httpx writes the boundary and content type)."""
        fields: dict[str, list[str]] = {}
        for name, value in form.fields:
            fields.setdefault(name, []).append(value)
        upload = {"file": (form.file.filename, form.file.data, form.file.content_type)}
        sent = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        try:
            response = await self.http.post(
                url, data=fields, files=upload, headers=sent, timeout=upstream_timeout
            )
        except httpx.HTTPError as exc:
            raise error_from_transport(self.provider, exc) from exc
        if response.status_code >= 400:
            raise self._status_error(response.status_code, response.content, response.headers)
        content_type = response.headers.get("content-type", "application/json")
        return Answer(content_type, response.content)

    async def open_bytes(
        self, url: str | httpx.URL, body: JSON, headers: Mapping[str, str], upstream_timeout: float
    ) -> BinaryStream:
        """POST JSON and hold the response open; an error status raises before any byte."""
        request = self.http.build_request(
            "POST", url, content=orjson.dumps(body), headers=dict(headers), timeout=upstream_timeout
        )
        try:
            response = await self.http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise error_from_transport(self.provider, exc) from exc
        if response.status_code >= 400:
            try:
                content = await response.aread()
            except httpx.HTTPError as exc:
                raise error_from_transport(self.provider, exc) from exc
            finally:
                await response.aclose()
            raise self._status_error(response.status_code, content, response.headers)
        return BinaryStream(self.provider, response)

    def _status_error(
        self, status: int, content: bytes, headers: Mapping[str, str]
    ) -> GatewayError:
        return error_from_status(self.provider, status, content, headers, classify=self.classify)

    async def stream_bytes(
        self, url: str, content: bytes, headers: Mapping[str, str], upstream_timeout: float
    ) -> AsyncGenerator[bytes, None]:
        """The response body as it arrives, for binary stream framings (AWS event streams)."""
        try:
            async with self.http.stream(
                "POST", url, content=content, headers=dict(headers), timeout=upstream_timeout
            ) as response:
                if response.status_code >= 400:
                    raise error_from_status(
                        self.provider,
                        response.status_code,
                        await response.aread(),
                        response.headers,
                        classify=self.classify,
                    )
                async for data in response.aiter_bytes():
                    yield data
        except httpx.HTTPError as exc:
            raise error_from_transport(self.provider, exc) from exc

    def parse_object(self, raw: bytes | str) -> JSON:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise malformed_response(self.provider, "body is not JSON") from exc
        if not isinstance(parsed, dict):
            raise malformed_response(self.provider, "body is not a JSON object")
        return parsed

    def stream_error(self, status: int, payload: bytes) -> GatewayError:
        """An error reported inside a 200 stream (an SSE `error` event, an NDJSON `error`)."""
        return error_from_status(self.provider, status, payload, {}, classify=self.classify)
