"""SQLite's wake-up across processes: inotify on the database's write-ahead log (Linux).

Every commit appends to ``<database>-wal``, so a change of that file is the moment another
process may have committed an event. Like LISTEN on PostgreSQL it only says "look now"; the
follower still reads rows by id and keeps a slow poll as a safety net. Where inotify is missing
(not Linux, an in-memory database) the follower simply polls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import select
import struct
from collections.abc import Callable
from pathlib import Path

from .. import errors
from ..background import Background

log = logging.getLogger(__name__)
IN_MODIFY, IN_CREATE, IN_MOVED_TO = 0x2, 0x100, 0x80
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len: then len bytes of name
TICK = 1.0  # seconds between checks for being stopped
# The WAL is written a moment before the commit is published in SQLite's shared index: look again
# shortly after, so a follower that looked too early is not left waiting for its slow poll.
SECOND_LOOK = 0.02


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        return libc if hasattr(libc, "inotify_init1") else None
    except OSError:
        return None


class WalWatcher(Background):
    """A thread (a greenlet under gevent) reading inotify events for the database's folder and
    calling ``on_change`` when the database or its WAL changes."""

    NAME = "callerid-walwatch"
    STOP_WITHIN = TICK + 5

    def __init__(self, database: Path, on_change: Callable[[], None]) -> None:
        self._folder = database.parent
        self._prefix = database.name.encode()
        self._on_change = on_change
        self.listening = False
        super().__init__()

    def _run(self) -> None:
        libc = _libc()
        if libc is None:
            return
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            log.info("no inotify (%s): events are polled", os.strerror(ctypes.get_errno()))
            return
        try:
            mask = IN_MODIFY | IN_CREATE | IN_MOVED_TO
            if libc.inotify_add_watch(fd, os.fsencode(self._folder), mask) < 0:
                log.info("cannot watch %s: events are polled", self._folder)
                return
            self.listening = True
            self._on_change()  # anything committed before the watch began
            self._watch(fd)
        except OSError as error:
            errors.log_failure(log, "watching the database failed; events are polled", error)
        finally:
            self.listening = False
            os.close(fd)

    def _watch(self, fd: int) -> None:
        pending = False  # a change was seen and has not had its second look yet
        while not self._stopped.is_set():
            ready, _, _ = select.select([fd], [], [], SECOND_LOOK if pending else TICK)
            if not ready:
                if pending:
                    self._on_change()
                    pending = False
                continue
            if self._ours(os.read(fd, 65536)):
                self._on_change()
                pending = True

    def _ours(self, data: bytes) -> bool:
        offset = 0
        while offset + _HEADER.size <= len(data):
            _wd, _mask, _cookie, length = _HEADER.unpack_from(data, offset)
            name = data[offset + _HEADER.size : offset + _HEADER.size + length]
            offset += _HEADER.size + length
            if name.startswith(self._prefix):
                return True
        return False
