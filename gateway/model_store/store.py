"""Models and credentials kept in the database: create, change and delete them, and turn the
stored rows into deployments for the router.

Secrets are encrypted on the way in (`secrets.SecretBox`) and only decrypted into the
in-memory `Deployment` that calls the provider; every view a route returns masks them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError

from gateway.config.schema import ModelEntry
from gateway.deployments import Deployment, deployment_from_entry, split_provider
from gateway.errors import BadRequestError, NotFoundError, ServiceUnavailableError
from gateway.model_store.live import LiveModels
from gateway.model_store.secrets import (
    MASK,
    SecretBox,
    SecretKeyMismatchError,
    is_encrypted,
    is_secret_param,
)
from gateway.model_store.wire import CredentialItem, CredentialUpdate, NewModel, UpdateModel
from gateway.providers.registry import ProviderRegistry
from gateway.store import repository as rows
from gateway.store.database import Database, StoreUnavailableError
from gateway.store.repository import DuplicateError, RefusedValueError
from gateway.store.tables import credentials, proxy_models

log = structlog.get_logger("toolrelay.model_store")
Row = dict[str, Any]
CREDENTIAL_PARAM = "litellm_credential_name"


def _unavailable(exc: StoreUnavailableError) -> ServiceUnavailableError:
    return ServiceUnavailableError("The model database is unavailable.", code="store_unavailable")


def mask_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """What a route may show of litellm_params: secrets replaced by the mask."""
    return {k: (MASK if is_secret_param(k) and v else v) for k, v in params.items()}


@dataclass
class ModelStore:
    db: Database
    box: SecretBox
    live: LiveModels
    providers: ProviderRegistry
    notify: Callable[[], Awaitable[None]]  # tell the other replicas (see sync.ModelSync)

    # -- secrets ------------------------------------------------------------------------
    def _seal(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            k: (self.box.encrypt(str(v)) if is_secret_param(k) and isinstance(v, str) else v)
            for k, v in params.items()
            if v is not None
        }

    def _open(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (self.box.decrypt(v) if is_encrypted(v) else v) for k, v in params.items()}

    # -- rows -> router -----------------------------------------------------------------
    async def reload(self) -> None:
        """Read every stored model and credential and make the router serve them."""
        stored_models = await rows.fetch_all(self.db, proxy_models)
        stored_credentials = {
            r["credential_name"]: r for r in await rows.fetch_all(self.db, credentials)
        }
        deployments: list[Deployment] = []
        for row in sorted(stored_models, key=lambda r: (r["created_at"], r["model_id"])):
            deployment = self._deployment(row, stored_credentials)
            if deployment is not None:
                deployments.append(deployment)
        self.live.apply(deployments)

    def _deployment(self, row: Row, stored_credentials: Mapping[str, Row]) -> Deployment | None:
        try:
            params = self._open(row["litellm_params"])
            name = params.pop(CREDENTIAL_PARAM, None)
            if name:
                credential = stored_credentials.get(name)
                if credential is None:
                    log.warning(
                        "stored model names a credential that does not exist",
                        model_id=row["model_id"],
                        credential=name,
                    )
                else:
                    values = self._open(credential["credential_values"])
                    params = {**values, **params}  # the model's own values win
            entry = ModelEntry.model_validate(
                {
                    "model_name": row["model_name"],
                    "litellm_params": params,
                    "model_info": {**(row["model_info"] or {}), "id": row["model_id"]},
                }
            )
        except SecretKeyMismatchError:
            log.error(
                "stored model skipped: its secrets do not decrypt with the current salt key "
                "(see README, 'Rotating the salt key')",
                model_id=row["model_id"],
                model_name=row["model_name"],
            )
            return None
        except ValidationError as exc:
            log.error("stored model skipped: invalid", model_id=row["model_id"], error=str(exc))
            return None
        return deployment_from_entry(entry, 0)

    # -- views --------------------------------------------------------------------------
    def view(self, row: Row) -> dict[str, Any]:
        """LiteLLM's LiteLLM_ProxyModelTable row, secrets masked."""
        return {
            "model_id": row["model_id"],
            "model_name": row["model_name"],
            "litellm_params": mask_params(row["litellm_params"]),
            "model_info": {**(row["model_info"] or {}), "id": row["model_id"], "db_model": True},
            "created_at": _iso(row.get("created_at")),
            "created_by": row.get("created_by"),
            "updated_at": _iso(row.get("updated_at")),
            "updated_by": row.get("updated_by"),
        }

    # -- models -------------------------------------------------------------------------
    def _check_params(self, params: Mapping[str, Any]) -> None:
        provider, _ = split_provider(str(params.get("model") or ""))
        if not self.providers.known(provider):
            raise BadRequestError(
                f"Unsupported provider '{provider}' in litellm_params.model.",
                param="litellm_params.model",
            )

    async def _check_credential(self, params: Mapping[str, Any]) -> None:
        name = params.get(CREDENTIAL_PARAM)
        if name and await self._get_row(credentials, str(name)) is None:
            raise BadRequestError(
                f"Credential '{name}' not found. Create it with POST /credentials first.",
                param=f"litellm_params.{CREDENTIAL_PARAM}",
            )

    def _refuse_config_model(self, model_id: str) -> None:
        if model_id in self.live.config_ids:
            raise BadRequestError(
                f"Model {model_id} comes from the config file and is read-only through the "
                "API; edit config.yaml instead.",
                param="model_info.id",
                code="config_model_read_only",
            )

    async def add(self, body: NewModel, by: str | None) -> dict[str, Any]:
        params = body.litellm_params.model_dump(exclude_none=True)
        self._check_params(params)
        await self._check_credential(params)
        info = body.model_info.model_dump(exclude_none=True)
        model_id = str(info.pop("id", None) or uuid.uuid4())
        self._refuse_config_model(model_id)
        values = {
            "model_id": model_id,
            "model_name": body.model_name,
            "litellm_params": self._seal(params),
            "model_info": info,
            "created_by": by,
            "updated_by": by,
        }
        row = await self._write(rows.insert_row(self.db, proxy_models, values), model_id)
        assert row is not None  # insert_row returns the row or raises
        await self._changed()
        log.info("model added", model_id=model_id, model_name=body.model_name, by=by)
        return self.view(row)

    async def update(self, model_id: str, body: UpdateModel, by: str | None) -> dict[str, Any]:
        self._refuse_config_model(model_id)
        row = await self._get_row(proxy_models, model_id)
        if row is None:
            raise NotFoundError(f"Model {model_id} not found.", code="not_found")
        values: dict[str, Any] = {"updated_by": by}
        if body.model_name is not None:
            values["model_name"] = body.model_name
        if body.litellm_params is not None:
            given = body.litellm_params.model_dump(exclude_unset=True)
            # The mask shown by the API means "keep the stored secret".
            given = {k: v for k, v in given.items() if v != MASK}
            merged = {**row["litellm_params"], **self._seal(given)}
            merged = {k: v for k, v in merged.items() if given.get(k, v) is not None}
            self._check_params(merged)
            await self._check_credential(merged)
            values["litellm_params"] = merged
        if body.model_info is not None:
            info = body.model_info.model_dump(exclude_none=True)
            info.pop("id", None)
            values["model_info"] = {**(row["model_info"] or {}), **info}
        updated = await self._write(
            rows.update_row(self.db, proxy_models, model_id, values), model_id
        )
        if updated is None:
            raise NotFoundError(f"Model {model_id} not found.", code="not_found")
        await self._changed()
        log.info("model updated", model_id=model_id, fields=sorted(values), by=by)
        return self.view(updated)

    async def delete(self, model_id: str) -> None:
        self._refuse_config_model(model_id)
        try:
            deleted = await rows.delete_rows(self.db, proxy_models, [model_id])
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc
        if not deleted:
            raise NotFoundError(f"Model {model_id} not found.", code="not_found")
        await self._changed()
        log.info("model deleted", model_id=model_id)

    async def stored_rows(self) -> list[Row]:
        try:
            return await rows.fetch_all(self.db, proxy_models)
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc

    # -- credentials --------------------------------------------------------------------
    def credential_view(self, row: Row) -> dict[str, Any]:
        return {
            "credential_name": row["credential_name"],
            "credential_values": {k: MASK for k in row["credential_values"]},
            "credential_info": row["credential_info"] or {},
        }

    def _seal_all(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self.box.encrypt(str(v)) for k, v in values.items() if v is not None}

    async def add_credential(self, body: CredentialItem) -> None:
        values = {
            "credential_name": body.credential_name,
            "credential_values": self._seal_all(body.credential_values),
            "credential_info": body.credential_info,
        }
        await self._write(rows.insert_row(self.db, credentials, values), body.credential_name)
        await self._changed()
        log.info("credential added", credential=body.credential_name)

    async def credential(self, name: str) -> Row:
        row = await self._get_row(credentials, name)
        if row is None:
            raise NotFoundError(f"Credential '{name}' not found.", code="not_found")
        return row

    async def all_credentials(self) -> list[Row]:
        try:
            return await rows.fetch_all(self.db, credentials)
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc

    async def update_credential(self, name: str, body: CredentialUpdate) -> None:
        row = await self.credential(name)
        if body.credential_name is not None and body.credential_name != name:
            raise BadRequestError(
                "credential_name cannot change; create a new credential instead.",
                param="credential_name",
            )
        values: dict[str, Any] = {}
        if body.credential_values is not None:
            given = {k: v for k, v in body.credential_values.items() if v != MASK}
            values["credential_values"] = {**row["credential_values"], **self._seal_all(given)}
        if body.credential_info is not None:
            values["credential_info"] = body.credential_info
        await self._write(rows.update_row(self.db, credentials, name, values), name)
        await self._changed()
        log.info("credential updated", credential=name)

    async def delete_credential(self, name: str) -> None:
        try:
            deleted = await rows.delete_rows(self.db, credentials, [name])
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc
        if not deleted:
            raise NotFoundError(f"Credential '{name}' not found.", code="not_found")
        await self._changed()
        log.info("credential deleted", credential=name)

    # -- plumbing -----------------------------------------------------------------------
    async def _get_row(self, table: Any, pk: str) -> Row | None:
        try:
            return await rows.fetch_one(self.db, table, pk)
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc

    async def _write(self, write: Awaitable[Row | None], what: str) -> Row | None:
        try:
            return await write
        except DuplicateError:
            raise BadRequestError(f"'{what}' already exists.", code="already_exists") from None
        except RefusedValueError as exc:
            raise BadRequestError(f"The database refused a value: {exc}") from None
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc

    async def _changed(self) -> None:
        try:
            await self.reload()
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc
        await self.notify()


def _iso(value: object) -> str | None:
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
