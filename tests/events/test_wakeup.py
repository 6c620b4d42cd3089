"""A follower wakes at once when another connection commits an event (LISTEN/NOTIFY on PostgreSQL,
inotify on SQLite's WAL), and a lost LISTEN connection costs no event. The follower's poll is set
far longer than each test may wait, so only the wake-up (or a reconnection's catch-up read) can
deliver."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from callerid import db
from callerid.events import listener, store, wakeup
from callerid.events.follower import Follower

from .frames import events_after

NEVER = 3600.0  # a poll interval no test waits for


@pytest.fixture
def follower(app):
    running = Follower(
        lambda: db.new_session(app),
        NEVER,
        timedelta(days=7),
        wakeup=wakeup.for_engine(db.engine_for(app)),
        idle_poll=NEVER,
    )
    wait_until(lambda: running.listening)
    yield running
    running.stop()


def wait_until(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def append_elsewhere(database_url: str, count: int) -> list[str]:
    """Commit events from a connection of another engine, as another process would; what each
    carries, to know it again."""
    engine = create_engine(database_url)
    marks = [uuid.uuid4().hex for _ in range(count)]
    try:
        with engine.begin() as connection:
            for mark in marks:
                store.append(connection, "call.ringing", {"mark": mark})
        return marks
    finally:
        engine.dispose()


def collect(follower: Follower, start: int, count: int) -> list[str]:
    """What the next ``count`` events after position ``start`` carry, as the follower hands
    them out; their positions must follow each other with no gap."""
    got: list[str] = []
    position = start
    while len(got) < count:
        fresh = events_after(follower, position, timeout=10)
        assert fresh, f"only {got} arrived"
        assert [event.id for event in fresh] == list(range(position + 1, position + 1 + len(fresh)))
        got += [json.loads(event.data)["mark"] for event in fresh]
        position = fresh[-1].id
    return got


def test_an_event_committed_elsewhere_wakes_the_follower(app, database_url, follower):
    start = follower.position
    ids = append_elsewhere(database_url, 3)
    assert collect(follower, start, 3) == ids


def test_an_event_rolled_back_elsewhere_is_not_announced(app, database_url, follower):
    start = follower.position
    engine = create_engine(database_url)
    with engine.connect() as connection:
        store.append(connection, "call.ringing", {"n": 0})
        connection.rollback()
    engine.dispose()
    committed = append_elsewhere(database_url, 1)
    assert collect(follower, start, 1) == committed


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_killed_listen_connection_comes_back_and_loses_nothing(app, database_url, follower):
    start = follower.position
    before = append_elsewhere(database_url, 2)
    assert collect(follower, start, 2) == before
    with db.engine_for(app).connect() as connection:
        killed = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": listener.APPLICATION_NAME},
        ).all()
    assert killed == [(True,)]
    during = append_elsewhere(database_url, 2)  # while the follower is not listening
    wait_until(lambda: follower.listening)
    after = append_elsewhere(database_url, 2)
    assert collect(follower, start + 2, 4) == during + after
