"""`GET /files/{name}`: local artifacts behind signed, expiring URLs."""

from __future__ import annotations

import mimetypes

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from middleware.artifacts import InvalidSignature, LocalArtifactStore
from middleware.errors import NotFoundError, PermissionDeniedError
from middleware.routes._state import app_state


async def get_file(request: Request) -> Response:
    store = app_state(request).store
    if not isinstance(store, LocalArtifactStore):
        raise NotFoundError("Artifacts are not served here (storage backend is S3).")
    name = request.path_params["name"]
    try:
        path = store.verify(
            name, request.query_params.get("expires"), request.query_params.get("sig")
        )
    except InvalidSignature as exc:
        raise PermissionDeniedError(f"File URL refused: {exc}.", code="invalid_signature") from None
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type)


routes = [Route("/files/{name}", get_file, methods=["GET"])]
