"""When the database cannot keep up, people are told to retry (503 + Retry-After), never shown a
500, and the log gets one line per kind of failure instead of a traceback per request."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from callerid import create_app, db, errors

from ..conftest import settings_for
from ..factories import add_user, token_for


@pytest.fixture
def tiny_pool_app(database_url, tmp_path):
    """One pooled connection, given up for after 0.2 s: holding it starves every request."""
    app = create_app(
        settings_for(
            database_url,
            tmp_path / "instance",
            CALLERID_DB_POOL_SIZE=1,
            CALLERID_DB_MAX_OVERFLOW=0,
            CALLERID_DB_TIMEOUT=0.2,
        )
    )
    yield app
    for background in ("callerid.follower", "callerid.sequencer"):
        running = app.extensions.get(background)
        if running is not None:
            running.stop()
    db.engine_for(app).dispose()


@pytest.fixture
def staff_token(tiny_pool_app) -> str:
    with db.new_session(tiny_pool_app) as session:
        return token_for(session, add_user(session, "desk", "staff"))


@pytest.mark.parametrize("path", ["/events", "/api/calls"])
def test_a_starved_pool_answers_503_with_retry_after(
    tiny_pool_app, staff_token, path, caplog, monkeypatch
):
    monkeypatch.setattr(errors, "failures", errors.FailureLog())  # an earlier line would mute it
    client = tiny_pool_app.test_client()
    with db.engine_for(tiny_pool_app).connect(), caplog.at_level(logging.WARNING):
        response = client.get(path, headers={"Authorization": f"Bearer {staff_token}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.json["error"]["code"] == 503
    overload = [r for r in caplog.records if "database overloaded" in r.getMessage()]
    assert len(overload) == 1
    assert overload[0].exc_info is None  # one line, no traceback
    assert "QueuePool limit" in overload[0].getMessage()


def test_a_screen_gets_its_stream_once_the_pool_has_room(tiny_pool_app, staff_token):
    client = tiny_pool_app.test_client()
    response = client.get("/events", headers={"Authorization": f"Bearer {staff_token}"})
    try:
        assert response.status_code == 200
        assert next(response.response).startswith(b"retry: 2000\nevent: stream.open\n")
        # The open stream holds no connection: the one pooled connection is free for others.
        with db.engine_for(tiny_pool_app).connect() as connection:
            assert connection is not None
    finally:
        response.close()


def overload() -> PoolTimeout:
    return PoolTimeout("QueuePool limit of size 1 overflow 0 reached, connection timed out")


def test_overload_failures_are_logged_as_one_line_and_a_closing_count(monkeypatch, caplog):
    failures = errors.FailureLog(quiet=3600.0, close_after=0.2)
    monkeypatch.setattr(errors, "failures", failures)
    log = logging.getLogger("callerid.test_overload")
    line = (
        "could not record: TimeoutError: QueuePool limit of size 1 overflow 0 reached, "
        "connection timed out"
    )
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            errors.log_failure(log, "could not record", overload())
        assert [r.getMessage() for r in caplog.records] == [line]
        # No failure follows, yet the four held back are told within moments.
        deadline = time.monotonic() + 10
        while len(caplog.records) < 2:
            assert time.monotonic() < deadline, "no closing line"
            time.sleep(0.05)
    assert caplog.records[1].getMessage() == f"{line} (and 3 more like it)"


def test_a_burst_of_failures_of_many_calls_costs_ten_lines_a_second_and_counts_them_all(
    monkeypatch, caplog
):
    failures = errors.FailureLog(quiet=0.0, close_after=3600.0)
    monkeypatch.setattr(errors, "failures", failures)
    log = logging.getLogger("callerid.test_overload")
    with caplog.at_level(logging.WARNING):
        for n in range(49):
            errors.log_failure(log, f"database failure on /twilio/voice (CA{n:032x})", overload())
        failures.close()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 11  # ten at once, then the closing line
    assert messages[0].startswith(f"database failure on /twilio/voice (CA{0:032x})")
    assert messages[-1].startswith(f"database failure on /twilio/voice (CA{48:032x})")
    assert messages[-1].endswith("(and 38 more like it)")  # 10 + 1 + 38 = 49


def test_other_database_errors_keep_their_traceback(caplog):
    error = OperationalError("SELECT 1", {}, Exception("no such table: calls"))
    assert not errors.is_overload(error)
    with caplog.at_level(logging.WARNING):
        errors.log_failure(logging.getLogger("callerid.test_overload"), "failed", error)
    assert caplog.records[0].exc_info is not None


def test_a_burst_of_the_same_bug_is_ten_tracebacks_a_second_at_most(monkeypatch, caplog):
    failures = errors.FailureLog(quiet=0.0, close_after=3600.0)
    monkeypatch.setattr(errors, "failures", failures)
    error = OperationalError("SELECT 1", {}, Exception("no such table: calls"))
    with caplog.at_level(logging.WARNING):
        for n in range(30):
            errors.log_failure(logging.getLogger("callerid.test_overload"), f"failed {n}", error)
        failures.close()
    assert sum(1 for r in caplog.records if r.exc_info is not None) == 10
    assert caplog.records[-1].getMessage() == "failed 29 (and 19 more like it)"
