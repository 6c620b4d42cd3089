"""The events table: screens follow positions, given gap-free in the order events become visible,
so a follower never skips or repeats one, and no writer waits on another to give them."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from callerid import db
from callerid.db import utcnow
from callerid.events import store

from ..conftest import wait_for_positions


def test_events_read_back_in_order_by_gap_free_positions(session):
    for n in range(5):
        store.append(session, "call.ringing", {"n": n})
    session.commit()
    wait_for_positions(session)
    every = store.since(session, 0)
    assert [json.loads(e.data)["n"] for e in every] == [0, 1, 2, 3, 4]
    positions = [e.id for e in every]
    assert positions == list(range(positions[0], positions[0] + 5))
    assert [e.id for e in store.since(session, positions[1])] == positions[2:]
    assert store.latest_position(session) == positions[-1]


def test_a_rolled_back_event_is_never_seen(session):
    store.append(session, "call.ringing", {"n": 1})
    session.rollback()
    assert store.since(session, 0) == []


def test_pruned_events_do_not_give_their_ids_to_new_ones(session):
    old = store.append(session, "call.ringing", {"n": 1})
    session.commit()
    assert store.prune(session, utcnow() + timedelta(seconds=1)) == 1
    session.commit()
    new = store.append(session, "call.ringing", {"n": 2})
    session.commit()
    assert new > old


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_writers_never_let_a_follower_skip_an_event(app):
    """On PostgreSQL ids come from a sequence at insert time, but transactions may commit out of
    that order. A follower reading `id > position` while writers race must still see every id."""
    writers, per_writer = 8, 25
    seen: list[int] = []
    done = threading.Event()

    def write() -> None:
        rng = random.Random()
        for n in range(per_writer):
            with db.new_session(app) as session:
                store.append(session, "call.ringing", {"n": n})
                time.sleep(rng.uniform(0, 0.004))  # work between append and commit
                session.commit()

    def follow() -> None:
        position = 0
        with db.new_session(app) as session:
            while not done.is_set() or store.since(session, position):
                for event in store.since(session, position):
                    seen.append(event.id)
                    position = event.id
                session.rollback()  # a fresh snapshot for the next read

    follower = threading.Thread(target=follow)
    follower.start()
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.new_session(app) as session:
        wait_for_positions(session)
    done.set()
    follower.join(timeout=30)
    with db.new_session(app) as session:
        every = [event.id for event in store.since(session, 0, limit=10_000)]
    assert every == list(range(1, writers * per_writer + 1))  # gap-free
    assert seen == every  # nothing skipped, nothing repeated


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_event_committed_first_is_followed_first_and_waits_on_no_other_writer(app):
    with db.new_session(app) as early, db.new_session(app) as late:
        early_id = store.append(early, "call.ringing", {"n": "early"})  # the lower id...
        late_id = store.append(late, "call.answered", {"n": "late"})
        late.commit()  # ...commits last: the other writer commits without waiting on it
        assert late_id > early_id
        with db.new_session(app) as reader:
            wait_for_positions(reader)
            (seen,) = store.since(reader, 0)
            assert json.loads(seen.data) == {"n": "late"}
        early.commit()
    with db.new_session(app) as reader:
        wait_for_positions(reader)
        every = store.since(reader, 0)
    assert [json.loads(e.data)["n"] for e in every] == ["late", "early"]
    assert [e.id for e in every] == [seen.id, seen.id + 1]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_long_transactions_here_and_in_another_database_hold_back_no_event(app, postgres):
    other = create_engine(postgres.new_database("elsewhere"))
    try:
        with other.connect() as elsewhere, db.engine_for(app).connect() as importing:
            elsewhere.begin()
            elsewhere.execute(text("CREATE TABLE busy AS SELECT 1 AS n"))
            importing.begin()  # an import of 100,000 rows, not committed yet
            importing.execute(
                text("CREATE TABLE import_rows AS SELECT n FROM generate_series(1, 100000) n")
            )
            with db.new_session(app) as writer:
                store.append(writer, "call.ringing", {"n": "ring"})
                writer.commit()
            with db.new_session(app) as reader:
                wait_for_positions(reader)
                assert [json.loads(e.data) for e in store.since(reader, 0)] == [{"n": "ring"}]
            importing.rollback()
            elsewhere.rollback()
    finally:
        other.dispose()


def test_after_every_event_was_pruned_positions_go_on_from_the_last_one_given(session):
    for n in range(3):
        store.append(session, "call.ringing", {"n": n})
    session.commit()
    wait_for_positions(session)
    last = store.latest_position(session)
    assert store.prune(session, utcnow() + timedelta(seconds=1)) == 3  # the office was closed
    session.commit()
    store.append(session, "call.ringing", {"n": "after"})
    session.commit()
    wait_for_positions(session)
    # A screen still open with Last-Event-ID: last gets the new event, not nothing.
    assert [json.loads(e.data) for e in store.since(session, last)] == [{"n": "after"}]
