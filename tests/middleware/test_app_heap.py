"""The middleware's server settles its heap once start-up is over, as the gateway does
(`common/heap.py`); an app built without asking (tests, embedding) leaves the collector alone."""

from __future__ import annotations

import gc

import pytest

from common.config import document_from_mapping
from common.heap import GEN0_THRESHOLD
from middleware.app import create_app
from middleware.settings import AppSettings, settings_from_config

pytestmark = pytest.mark.anyio


def _settings() -> AppSettings:
    config = document_from_mapping(
        {"middleware_settings": {"gateway_url": "http://127.0.0.1:1"}}, environ={}
    )
    return settings_from_config(config)


@pytest.mark.parametrize("settle_heap", [True, False])
async def test_the_heap_is_settled_only_for_a_server(restored_gc: None, settle_heap: bool) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    app = create_app(_settings(), public_url="http://127.0.0.1:4001", settle_heap=settle_heap)
    async with app.router.lifespan_context(app):
        assert (gc.get_threshold()[0] == GEN0_THRESHOLD) is settle_heap
        assert (gc.get_freeze_count() > 0) is settle_heap
