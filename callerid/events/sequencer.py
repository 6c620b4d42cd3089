"""PostgreSQL: one sequencer gives committed events their positions, gap-free, in the order it
sees them; screens follow positions, never ids.

Why: ids are drawn at insert, but transactions commit in any order. A follower reading
``id > 10`` could pass 11 before 10 commits and never see 10. Making writers commit in id order
took a lock every writer of every instance waited on. Instead, writers insert events without a
position (waiting on nobody), and the sequencer, in one transaction, numbers every event it can
see that has none, in id order, after the last position given (a one-row counter, so pruning or
erasing the newest events never makes a position be given twice).

Why no event is skipped or repeated: only committed events are visible to the sequencer, and it
numbers them all at once, after every position given before (one sequencer at a time, elected by
a session advisory lock, so no two number at once; a new one goes on from the counter as
committed). An event that commits late is numbered late, after events that committed earlier:
it is never behind a position a follower has passed. A position is given once, in a transaction
that commits or not at all. Nothing here reads the server-wide transaction horizon, so a long
transaction elsewhere (an import, another database) delays no event.

Every process runs a candidate once it follows events; the one holding the lock listens for
new events (writers NOTIFY at commit) and numbers them; the others try for the lock every
second, so a leader whose process ends is replaced within a second (one whose host vanishes,
once the server's keepalives notice: about 30 s).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, text

from .. import errors
from ..background import Background
from .listener import CHANNEL, NEW_CHANNEL, connector_for

log = logging.getLogger(__name__)
# Names the advisory lock that elects the sequencer (any constant works).
LOCK_KEY = 7_290_002
APPLICATION_NAME = "callerid-sequencer"
# A candidate tries for the lock this often; the leader also looks this often without news.
TICK = 1.0
# The server, too, notices within about 30 s a leader whose host vanished, and frees its lock
# (by default it would hold it for hours, and no event would get a position meanwhile).
SERVER_KEEPALIVES = (
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
)
# Events numbered per transaction at most; more are numbered in the next, at once.
BATCH = 5000

# The counter's row, made if missing (a new or emptied database): from the last position given.
_COUNTER = """
INSERT INTO event_counter (id, last) SELECT 1, COALESCE(MAX(position), 0) FROM events
ON CONFLICT (id) DO NOTHING
"""
_STAMP = f"""
WITH todo AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n
    FROM (SELECT id FROM events WHERE position IS NULL ORDER BY id LIMIT {BATCH}) AS waiting
),
given AS (
    UPDATE event_counter SET last = last + (SELECT count(*) FROM todo)
    WHERE id = 1 AND EXISTS (SELECT 1 FROM todo)
    RETURNING last - (SELECT count(*) FROM todo) AS base
)
UPDATE events SET position = given.base + todo.n FROM given, todo WHERE events.id = todo.id
"""


def stamp(connection: Any) -> int:
    """Number the visible events without a position, in one transaction on ``connection`` (a
    psycopg connection in autocommit, or a SQLAlchemy Connection already in a transaction);
    return how many. Only the elected sequencer may call it, or a caller holding the lock."""
    if isinstance(connection, Connection):
        connection.execute(text(_COUNTER))
        done = connection.execute(text(_STAMP)).rowcount or 0
        if done:
            connection.execute(text(f"SELECT pg_notify('{CHANNEL}', '')"))
        return done
    with connection.transaction():
        connection.execute(_COUNTER)
        done = connection.execute(_STAMP).rowcount or 0
        if done:
            # Delivered at commit: every follower reads the events just numbered.
            connection.execute(f"SELECT pg_notify('{CHANNEL}', '')")
    return done


class Sequencer(Background):
    """This process's candidate: a thread (a greenlet under gevent) with its own connection."""

    NAME = "callerid-sequencer"
    STOP_WITHIN = TICK + 5

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self.leading = False
        super().__init__()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._candidate()
            except Exception as error:  # noqa: BLE001 - any failure: try again, never die
                errors.log_failure(log, "the event sequencer lost its connection", error)
                self._stopped.wait(TICK)

    def _candidate(self) -> None:
        connection = self._connect()
        try:
            while not self._stopped.is_set():
                row = connection.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
                if row.fetchone()[0]:
                    self._lead(connection)
                    return
                self._stopped.wait(TICK)
        finally:
            self.leading = False
            connection.close()

    def _lead(self, connection: Any) -> None:
        connection.execute(f"LISTEN {NEW_CHANNEL}")
        self.leading = True
        log.info("this process numbers the events (sequencer)")
        while not self._stopped.is_set():
            # Whatever committed before we listened, or since the last look, then on news.
            while stamp(connection) >= BATCH:
                pass
            for _news in connection.notifies(timeout=TICK, stop_after=1):
                break


def for_engine(engine: Engine) -> Sequencer | None:
    """A sequencer candidate for ``engine``'s database; None on SQLite (positions are ids)."""
    connect = connector_for(engine, APPLICATION_NAME, SERVER_KEEPALIVES)
    return Sequencer(connect) if connect is not None else None
