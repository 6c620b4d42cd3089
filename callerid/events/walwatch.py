"""SQLite's wake-up across processes: inotify on the database's write-ahead log (Linux).

Every commit appends to ``<database>-wal``, so a change of that file is the moment another
process may have committed an event. Like LISTEN on PostgreSQL it only says "look now"; the
follower still reads rows by id and keeps a slow poll as a safety net. Where inotify is missing
(not Linux, an in-memory database) the follower simply polls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from inotify_simple import INotify, flags

from .. import errors
from ..cooperative import wait_readable
from .waker import TICK, Waker

log = logging.getLogger(__name__)
# A commit writes the WAL (MODIFY); a checkpoint or a new database creates or renames files.
WATCHED = flags.MODIFY | flags.CREATE | flags.MOVED_TO
# The WAL is written a moment before the commit is published in SQLite's shared index: look again
# shortly after, so a follower that looked too early is not left waiting for its slow poll.
SECOND_LOOK = 0.02


class WalWatcher(Waker):
    """Watches the database's folder and brings news when the database or its WAL changes. The
    inotify descriptor is non-blocking and waited on with ``cooperative.wait_readable``: under
    gevent the watch is one idle greenlet, never a stopped worker."""

    NAME = "callerid-walwatch"

    def __init__(self, database: Path, on_change: Callable[[], None]) -> None:
        self._folder = database.parent
        self._prefix = database.name
        super().__init__(on_change)

    def _run(self) -> None:
        try:
            inotify = INotify(nonblocking=True)
        except (OSError, AttributeError) as error:  # AttributeError: a libc without inotify
            log.info("no inotify (%s): events are polled", error)
            return
        with inotify:
            try:
                inotify.add_watch(self._folder, WATCHED)
            except OSError as error:
                log.info("cannot watch %s (%s): events are polled", self._folder, error)
                return
            try:
                with self._hearing():
                    self._watch(inotify)
            except OSError as error:
                errors.log_failure(log, "watching the database failed; events are polled", error)

    def _watch(self, inotify: INotify) -> None:
        pending = False  # a change was seen and has not had its second look yet
        while not self._stopped.is_set():
            if not wait_readable(inotify.fileno(), SECOND_LOOK if pending else TICK):
                if pending:
                    self._on_news()
                    pending = False
                continue
            # timeout=0: read what is there without inotify_simple's own (blocking) poll.
            if any(event.name.startswith(self._prefix) for event in inotify.read(timeout=0)):
                self._on_news()
                pending = True
