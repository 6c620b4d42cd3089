"""The per-process follower: hands each stream what it has not sent, from memory or the table."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from callerid import db
from callerid.events import store
from callerid.events.follower import Follower

from .frames import events_after


@pytest.fixture
def follower(app):
    running = Follower(lambda: db.new_session(app), 0.02, timedelta(days=7), keep=3)
    yield running
    running.stop()


def append(app, count: int) -> list[int]:
    with db.new_session(app) as session:
        ids = [store.append(session, "call.ringing", {"n": n}) for n in range(count)]
        session.commit()
    return ids


def test_new_events_reach_a_waiting_stream(app, follower):
    start = follower.position
    ids = append(app, 2)
    follower.wake()
    got = []
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        got += events_after(follower, got[-1].id if got else start, timeout=1)
    assert [e.id for e in got] == ids


def test_a_stream_further_behind_than_memory_reads_the_table(app, follower):
    start = follower.position
    ids = append(app, 6)  # more than the 3 kept in memory
    follower.wake()
    deadline = time.monotonic() + 5
    while follower.position < ids[-1] and time.monotonic() < deadline:
        events_after(follower, follower.position, timeout=0.5)
    assert follower.position == ids[-1]
    replay = events_after(follower, start, timeout=1)
    assert [e.id for e in replay] == ids


def test_waiting_with_nothing_new_returns_nothing_after_the_timeout(follower):
    assert events_after(follower, follower.position, timeout=0.1) == []
