"""Rotate the salt key: re-encrypt every stored secret (models and credentials) from the old
key to the new one, in one transaction, while the gateways are stopped.

    LITELLM_OLD_SALT_KEY=<old> LITELLM_SALT_KEY=<new> \\
        python -m gateway.model_store.rotate --config config.yaml

The old key defaults to the master key (what was used when no salt key was set). Nothing is
changed unless every stored secret decrypts with the old key. Then start the gateways with
the new `LITELLM_SALT_KEY`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from gateway.config import load_config
from gateway.model_store.secrets import (
    SALT_KEY_ENV,
    SecretBox,
    SecretKeyMismatchError,
    is_encrypted,
)
from gateway.store.database import Database, database_url_for, default_data_dir, open_database
from gateway.store.tables import credentials, proxy_models

OLD_SALT_KEY_ENV = "LITELLM_OLD_SALT_KEY"


def _reseal(values: Mapping[str, Any], old: SecretBox, new: SecretBox) -> dict[str, Any]:
    return {k: (new.encrypt(old.decrypt(v)) if is_encrypted(v) else v) for k, v in values.items()}


async def rotate_salt_key(db: Database, old: SecretBox, new: SecretBox) -> int:
    """Re-encrypt every stored secret; the number of rows rewritten. Raises
    `SecretKeyMismatchError` (and changes nothing) if a secret does not decrypt with `old`."""
    count = 0
    async with db.engine.begin() as connection:
        for table, pk, column in (
            (proxy_models, proxy_models.c.model_id, "litellm_params"),
            (credentials, credentials.c.credential_name, "credential_values"),
        ):
            found = await connection.execute(select(pk, table.c[column]))
            for key, values in found.all():
                resealed = _reseal(values or {}, old, new)
                await connection.execute(update(table).where(pk == key).values({column: resealed}))
                count += 1
    return count


async def _main(config_path: str | None) -> int:
    config = load_config(config_path)
    old_key = os.environ.get(OLD_SALT_KEY_ENV) or config.master_key
    new_key = os.environ.get(SALT_KEY_ENV)
    if not old_key or not new_key:
        print(f"set {OLD_SALT_KEY_ENV} (or a master key) and {SALT_KEY_ENV}", file=sys.stderr)
        return 2
    url = database_url_for(config.file.general_settings.database_url, default_data_dir())
    db = await open_database(url)
    try:
        count = await rotate_salt_key(db, SecretBox.from_key(old_key), SecretBox.from_key(new_key))
    except SecretKeyMismatchError:
        print("a stored secret does not decrypt with the old key; nothing changed", file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(f"re-encrypted the secrets of {count} stored rows in {db.describe()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    return asyncio.run(_main(str(args.config) if args.config else None))


if __name__ == "__main__":
    raise SystemExit(main())
