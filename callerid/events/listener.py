"""PostgreSQL LISTEN as a wake-up for the follower: news of a commit, never the event itself.

The sequencer sends ``NOTIFY`` in the transaction that positions events, so PostgreSQL delivers
it at commit. The listener only says "look now": the follower still reads the rows by position,
so a notification lost while the connection is down costs latency (the follower's fallback
poll), never an event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from .. import errors
from .waker import TICK, Waker

log = logging.getLogger(__name__)
# Events got their positions (sent by the sequencer, heard by every follower).
CHANNEL = "callerid_events"
# An event was committed without a position yet (sent by writers, heard by the sequencer).
NEW_CHANNEL = "callerid_events_new"
APPLICATION_NAME = "callerid-listen"
# Between reconnection attempts: doubles from FIRST_RETRY up to LAST_RETRY seconds.
FIRST_RETRY, LAST_RETRY = 0.5, 30.0


class Listener(Waker):
    """One autocommit connection in ``LISTEN``: news for each notification, and after every
    (re)connection; reconnects with a growing back-off. ``stop`` returns once the connection is
    closed."""

    NAME = "callerid-listen"

    def __init__(self, connect: Callable[[], Any], on_notify: Callable[[], None]) -> None:
        self._connect = connect
        self._heard = False
        super().__init__(on_notify)

    def _run(self) -> None:
        retry = FIRST_RETRY
        while not self._stopped.is_set():
            try:
                self._listen()
            except Exception as error:  # noqa: BLE001 - any failure: reconnect, never die
                if self._heard:  # it worked for a while: start the back-off afresh
                    retry, self._heard = FIRST_RETRY, False
                errors.log_failure(log, "LISTEN connection lost; polling until it is back", error)
                self._stopped.wait(retry)
                retry = min(retry * 2, LAST_RETRY)

    def _listen(self) -> None:
        connection = self._connect()
        try:
            connection.execute(f"LISTEN {CHANNEL}")
            self._heard = True
            log.info("listening for events on PostgreSQL channel %s", CHANNEL)
            with self._hearing():
                while not self._stopped.is_set():
                    for _notification in connection.notifies(timeout=TICK):
                        self._on_news()
        finally:
            connection.close()


def connector_for(
    engine: Engine, application_name: str = APPLICATION_NAME, server_options: str = ""
) -> Callable[[], Any] | None:
    """How to open a dedicated LISTEN connection to ``engine``'s database, or None where only
    polling works (SQLite, or a PostgreSQL driver other than psycopg 3)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return None
    import psycopg

    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    # Keepalives make a silently dead connection (a host that vanished) fail within a minute
    # instead of waiting for notifications forever.
    options = {
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        **cparams,
        # Names it in pg_stat_activity, for operators (and the tests that cut it).
        "application_name": application_name,
        "autocommit": True,
    }
    if server_options:
        options["options"] = f"{cparams.get('options', '')} {server_options}".strip()

    def connect() -> Any:
        return psycopg.connect(*cargs, **options)

    return connect
