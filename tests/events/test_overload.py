"""When the database cannot keep up, people are told to retry (503 + Retry-After), never shown a
500, and the log gets one line per kind of failure instead of a traceback per request."""

from __future__ import annotations

import logging

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
    follower = app.extensions.get("callerid.follower")
    if follower is not None:
        follower.stop()
    db.engine_for(app).dispose()


@pytest.fixture
def staff_token(tiny_pool_app) -> str:
    with db.new_session(tiny_pool_app) as session:
        return token_for(session, add_user(session, "desk", "staff"))


@pytest.mark.parametrize("path", ["/events", "/api/calls"])
def test_a_starved_pool_answers_503_with_retry_after(
    tiny_pool_app, staff_token, path, caplog, monkeypatch
):
    monkeypatch.setattr(errors, "_last_logged", {})  # an earlier test's line would mute this one
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


def test_overload_failures_are_logged_as_one_line_with_a_count(monkeypatch, caplog):
    monkeypatch.setattr(errors, "QUIET_SECONDS", 3600.0)
    monkeypatch.setattr(errors, "_last_logged", {})
    monkeypatch.setattr(errors, "_suppressed", {})
    log = logging.getLogger("callerid.test_overload")
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            errors.log_failure(log, "could not record", overload())
    assert [r.getMessage() for r in caplog.records] == [
        "could not record: TimeoutError: QueuePool limit of size 1 overflow 0 reached, "
        "connection timed out"
    ]
    monkeypatch.setattr(errors, "QUIET_SECONDS", 0.0)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        errors.log_failure(log, "could not record", overload())
    assert caplog.records[0].getMessage().endswith("(and 4 more like it)")


def test_other_database_errors_keep_their_traceback(caplog):
    error = OperationalError("SELECT 1", {}, Exception("no such table: calls"))
    assert not errors.is_overload(error)
    with caplog.at_level(logging.WARNING):
        errors.log_failure(logging.getLogger("callerid.test_overload"), "failed", error)
    assert caplog.records[0].exc_info is not None
