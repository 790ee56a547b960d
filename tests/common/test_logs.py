"""One line format for our structlog events and for stdlib records, written to one stream."""

from __future__ import annotations

import datetime
import io
import logging
from collections.abc import Iterator

import orjson
import pytest
import structlog

from common.logs import EventLog, IsoUtcStamper, configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        structlog.reset_defaults()


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_structlog_and_stdlib_lines_share_the_format_and_stream(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configure_logging(json_logs=True, level="INFO")
    ours = structlog.get_logger("toolrelay.gateway.access")
    ours.info("request", status=200)
    ours.debug("below the level")
    logging.getLogger("tests.a_library").info("started %s", "server")
    logging.getLogger("httpx").info("chatter, lowered to debug")
    structlog.get_logger("toolrelay.spend").bind(rows=3).warning("bound")

    lines = _lines(capsys)
    assert [line["event"] for line in lines] == ["request", "started server", "bound"]
    assert [line["logger"] for line in lines] == [
        "toolrelay.gateway.access",
        "tests.a_library",
        "toolrelay.spend",
    ]
    assert [line["level"] for line in lines] == ["info", "info", "warning"]
    assert lines[0]["status"] == 200 and lines[2]["rows"] == 3
    assert all(str(line["timestamp"]).endswith("Z") for line in lines)


def test_an_exception_is_rendered_into_the_line(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configure_logging(json_logs=True, level="INFO")
    try:
        raise ValueError("bad value")
    except ValueError:
        structlog.get_logger("toolrelay.gateway").exception("failed", step="flush")

    (line,) = _lines(capsys)
    assert line["level"] == "error" and line["step"] == "flush"
    assert "ValueError: bad value" in str(line["exception"])


def test_a_line_that_cannot_be_written_is_reported_not_raised(
    capsys: pytest.CaptureFixture[str], restored_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(json_logs=True, level="INFO")
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(handler, "stream", closed)
    structlog.get_logger("toolrelay.gateway.access").info("request", status=200)
    assert "--- Logging error ---" in capsys.readouterr().err


def test_an_event_log_writes_the_line_a_structlog_logger_writes(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configure_logging(json_logs=True, level="INFO")
    fields = {"status": 200, "path": "/v1/chat/completions", "latency_ms": 1.5}
    structlog.get_logger("toolrelay.gateway.access").info("request", **fields)
    EventLog("toolrelay.gateway.access").info("request", dict(fields))

    ours, theirs = _lines(capsys)
    assert list(ours) == list(theirs)  # the same fields, in the same order
    assert {k: v for k, v in ours.items() if k != "timestamp"} == {
        k: v for k, v in theirs.items() if k != "timestamp"
    }


def test_an_event_log_below_the_level_writes_nothing(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configure_logging(json_logs=True, level="WARNING")
    EventLog("toolrelay.gateway.access").info("request", {"status": 200})
    assert capsys.readouterr().err == ""


def test_the_time_stamp_is_iso_utc_with_microseconds() -> None:
    before = datetime.datetime.now(datetime.UTC)
    stamped = str(IsoUtcStamper()(None, "info", {})["timestamp"])
    after = datetime.datetime.now(datetime.UTC)
    assert stamped.endswith("Z")
    whole, _, fraction = stamped[:-1].partition(".")
    assert len(whole) == 19 and (fraction == "" or len(fraction) == 6)
    parsed = datetime.datetime.fromisoformat(stamped[:-1] + "+00:00")
    assert before - datetime.timedelta(microseconds=1) <= parsed <= after
