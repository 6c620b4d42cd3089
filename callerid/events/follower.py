"""One follower per process reads new rows of the events table and wakes every open stream.

Every process (gunicorn worker, host) follows the same table, so an event written by any of them
reaches screens connected to all of them; one cheap indexed poll per process, never per stream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..db import utcnow
from . import store
from .store import StoredEvent

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600.0  # seconds


class Follower:
    """Keeps the newest events in memory; ``after(position)`` gives a stream what it lacks."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        poll_interval: float,
        retention: timedelta,
        keep: int = 2000,
    ) -> None:
        self._sessions = sessions
        self._poll_interval = poll_interval
        self._retention = retention
        self._next_prune = time.monotonic() + PRUNE_EVERY
        self._recent: deque[StoredEvent] = deque(maxlen=keep)
        self._changed = threading.Condition()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        with self._sessions() as session:
            self.position = store.latest_id(session)
        # Events above this id are all in memory; a stream further behind reads the table.
        self._floor = self.position
        self._thread = threading.Thread(target=self._run, name="callerid-events", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for new events now rather than at the next poll (an event was just written)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def after(self, position: int, timeout: float) -> list[StoredEvent]:
        """Events with ids above ``position``, oldest first; waits up to ``timeout`` seconds for
        one to arrive and returns ``[]`` if none did."""
        if position < self._floor:
            # Behind what memory holds: a reconnecting screen that missed more than we keep.
            with self._sessions() as session:
                missed = store.since(session, position)
            if missed:
                return missed
            position = self._floor  # the rows were pruned meanwhile; carry on from memory
        with self._changed:
            if self.position <= position:
                self._changed.wait(timeout)
            return [event for event in self._recent if event.id > position]

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self._poll_interval)
            self._wake.clear()
            try:
                self._poll()
                if time.monotonic() >= self._next_prune:
                    self._prune()
            except SQLAlchemyError:
                log.exception("could not read new events; retrying")
                self._stopped.wait(1.0)

    def _prune(self) -> None:
        # Every process prunes now and then; doing it twice is harmless and needs no cron.
        self._next_prune = time.monotonic() + PRUNE_EVERY
        with self._sessions() as session:
            gone = store.prune(session, utcnow() - self._retention)
            session.commit()
        if gone:
            log.info("pruned %d events older than %s", gone, self._retention)

    def _poll(self) -> None:
        with self._sessions() as session:
            fresh = store.since(session, self.position)
        if not fresh:
            return
        with self._changed:
            for event in fresh:
                if len(self._recent) == self._recent.maxlen:
                    self._floor = self._recent[0].id
                self._recent.append(event)
            self.position = fresh[-1].id
            self._changed.notify_all()
