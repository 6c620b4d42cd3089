"""The events table: ids commit in order, so a follower never skips one; pruning keeps ids."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest

from callerid import db
from callerid.db import utcnow
from callerid.events import store


def test_events_read_back_in_id_order(session):
    ids = [store.append(session, "call.ringing", {"n": n}) for n in range(5)]
    session.commit()
    assert [e.id for e in store.since(session, ids[1])] == ids[2:]
    assert store.latest_id(session) == ids[-1]


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
    done.set()
    follower.join(timeout=30)
    with db.new_session(app) as session:
        every = [event.id for event in store.since(session, 0, limit=10_000)]
    assert len(every) == writers * per_writer
    assert seen == every
