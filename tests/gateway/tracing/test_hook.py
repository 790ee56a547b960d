"""The tracing hook names every call type the gateway makes."""

from __future__ import annotations

from typing import get_args

from gateway.hooks import CallType
from gateway.tracing.operations import OPERATIONS


def test_every_call_type_has_an_operation_name() -> None:
    assert set(OPERATIONS) == set(get_args(CallType))
