"""One follower per process reads new rows of the events table and wakes every open stream.

Every process (gunicorn worker, host) follows the same table, so an event written by any of them
reaches screens connected to all of them; one cheap indexed poll per process, never per stream.
A waker (``wakeup``: LISTEN/NOTIFY on PostgreSQL, inotify on SQLite's WAL) wakes the follower as
soon as another process commits, and the poll slows down to a safety net for when it is lost.

Each event is encoded as SSE bytes once, here, and shared by every stream of the process; all the
streams waiting for news wake on one broadcast, so a call costs one read and one encoding per
process however many screens are open.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .. import errors
from ..db import utcnow
from . import sse, store
from .store import StoredEvent
from .wakeup import WakerFactory

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600.0  # seconds
# Slowest poll while a waker works: only a lost or silently broken one relies on it.
IDLE_POLL = 1.0

Framed = tuple[StoredEvent, bytes]


class Follower:
    """Keeps the newest events in memory; ``frames_after(position)`` gives a stream what it lacks.

    ``wakeup`` builds what tells it another process committed (``wakeup.for_engine``); without
    one, or while it is down, the follower polls every ``poll_interval`` seconds.
    """

    def __init__(
        self,
        sessions: Callable[[], Session],
        poll_interval: float,
        retention: timedelta,
        keep: int = 2000,
        wakeup: WakerFactory | None = None,
        idle_poll: float = IDLE_POLL,
    ) -> None:
        self._sessions = sessions
        self._poll_interval = poll_interval
        self._idle_poll = max(idle_poll, poll_interval)
        self._retention = retention
        self._keep = keep
        self._next_prune = time.monotonic() + PRUNE_EVERY
        self._wake = threading.Event()
        self._stopped = threading.Event()
        # Set (and replaced) whenever new events arrive: one broadcast wakes every waiting stream.
        self._arrived = threading.Event()
        with self._sessions() as session:
            self.position = store.latest_position(session)
        # (floor, window): every event above floor is in window, oldest first. Replaced as a
        # whole, never changed in place, so streams read it without a lock.
        self._memory: tuple[int, tuple[Framed, ...]] = (self.position, ())
        self._waker = wakeup(self.wake) if wakeup is not None else None
        self._thread = threading.Thread(target=self._run, name="callerid-events", daemon=True)
        self._thread.start()
        if self._waker is not None:
            self._waker.start()

    @property
    def listening(self) -> bool:
        """Whether the waker is up right now (else the follower polls at full rate)."""
        return self._waker is not None and self._waker.listening

    def wake(self) -> None:
        """Look for new events now rather than at the next poll (an event was just written)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._waker is not None:
            self._waker.stop()

    def frames_after(self, position: int, timeout: float) -> tuple[int, bytes]:
        """The events with positions above ``position``, oldest first, as the SSE bytes a stream
        writes: (new position, frames). Waits up to ``timeout`` seconds for one to arrive;
        ``b""`` (and ``position``) when none did."""
        fresh = self._framed_after(position, timeout)
        if not fresh:
            return position, b""
        if len(fresh) == 1:
            return fresh[0][0].id, fresh[0][1]
        return fresh[-1][0].id, b"".join(frame for _event, frame in fresh)

    def _framed_after(self, position: int, timeout: float) -> list[Framed]:
        floor, window = self._memory
        if position < floor:
            # Behind what memory holds: a reconnecting screen that missed more than we keep.
            with self._sessions() as session:
                missed = store.since(session, position)
            if missed:
                return [(event, sse.frame(event)) for event in missed]
            position = floor  # the rows were pruned meanwhile; carry on from memory
        arrived = self._arrived  # taken before the check, so a broadcast in between is not missed
        if self.position <= position:
            arrived.wait(timeout)
            floor, window = self._memory
        return _newer(window, position)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self._idle_poll if self.listening else self._poll_interval)
            self._wake.clear()
            try:
                self._poll()
                if time.monotonic() >= self._next_prune:
                    self._prune()
            except SQLAlchemyError as error:
                errors.log_failure(log, "could not read new events; retrying", error)
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
        if len(fresh) >= store.BATCH:
            self._wake.set()  # a full batch: more may be waiting
        floor, window = self._memory
        joined = window + tuple((event, sse.frame(event)) for event in fresh)
        if len(joined) > self._keep:
            dropped = len(joined) - self._keep
            floor, joined = joined[dropped - 1][0].id, joined[dropped:]
        self._memory = (floor, joined)
        self.position = fresh[-1].id
        arrived, self._arrived = self._arrived, threading.Event()
        arrived.set()


def _newer(window: tuple[Framed, ...], position: int) -> list[Framed]:
    # Streams are nearly always just one or two events behind: walk back from the newest.
    found = []
    for framed in reversed(window):
        if framed[0].id <= position:
            break
        found.append(framed)
    found.reverse()
    return found
