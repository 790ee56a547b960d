from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def isolated_toolrelay_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep every SQLite store, spill file and generated key of the run out of ~/.toolrelay;
    service processes started by tests inherit it."""
    home = tmp_path_factory.mktemp("toolrelay-home")
    previous = os.environ.get("TOOLRELAY_HOME")
    os.environ["TOOLRELAY_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("TOOLRELAY_HOME", None)
    else:
        os.environ["TOOLRELAY_HOME"] = previous


@pytest.fixture(scope="session", autouse=True)
def no_instance_metadata() -> Iterator[None]:
    """botocore's credential chain ends at the EC2 instance metadata address; no test may
    reach it (a bedrock/ deployment without keys would). Service processes inherit this."""
    previous = os.environ.get("AWS_EC2_METADATA_DISABLED")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    yield
    if previous is None:
        os.environ.pop("AWS_EC2_METADATA_DISABLED", None)
    else:
        os.environ["AWS_EC2_METADATA_DISABLED"] = previous


@pytest.fixture(scope="session")
def service_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where service processes started by tests write their output."""
    yield tmp_path_factory.mktemp("service-logs")


@pytest.fixture
def restored_gc() -> Iterator[None]:
    """For tests that settle the heap (`common/heap.py`): the collector as it was after."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
