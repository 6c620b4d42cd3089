"""Each process applies the spool in the background while it holds anything, and looks at it on
its first request, so what an earlier process spooled is applied even if no webhook comes."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from .. import errors
from ..background import Background, on_first_request
from . import recorder

log = logging.getLogger(__name__)
# Seconds between tries while the database is still away; a try costs one failed connect.
RETRY_EVERY = 2.0
# While the database stays away, say so once a minute, not at every try.
SAY_WAITING_EVERY = 60.0


class Replayer(Background):
    """A thread that replays the spool until it is empty, then ends. ``stop`` lets the current
    pass end."""

    NAME = "callerid-spool"
    STOP_WITHIN = 10.0

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._poke = threading.Event()
        self._said_at = -SAY_WAITING_EVERY
        self.done = False
        super().__init__()

    def poke(self) -> None:
        self._poke.set()

    def stop(self) -> None:
        self._poke.set()  # out of its wait between passes
        super().stop()

    def _run(self) -> None:
        try:
            self._replay_until_empty()
        finally:
            with _lock:
                self.done = True  # whatever ended it, the next spooled webhook starts another

    def _replay_until_empty(self) -> None:
        spool = recorder.spool_of(self._app)
        while not self._stopped.is_set():
            self._poke.clear()
            try:
                applied, waiting_for = recorder.replay(self._app)
            except Exception as error:  # never let the thread die with entries waiting
                log.exception("replaying the spool failed; trying again")
                applied, waiting_for = 0, error
            if applied:
                log.info("applied %d webhook(s) from the spool", applied)
            try:
                if waiting_for is not None:
                    self._say_waiting(spool.depth(), waiting_for)
                with _lock:  # decided under ensure_running's lock, so no append goes unnoticed
                    if spool.depth() == 0:
                        self.done = True
                        return
            except OSError as error:
                log.error("cannot read the spool: %s; trying again", error)
            self._poke.wait(RETRY_EVERY)

    def _say_waiting(self, depth: int, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._said_at >= SAY_WAITING_EVERY:
            self._said_at = now
            reason = errors.summary(error)
            log.warning("%d webhook(s) wait in the spool for the database: %s", depth, reason)


_lock = threading.Lock()


def ensure_running(app: Flask) -> None:
    """Start this process's replayer unless it runs already."""
    with _lock:
        current: Replayer | None = app.extensions.get("callerid.replayer")
        if current is not None and not current.done:
            current.poke()
            return
        replayer = app.extensions["callerid.replayer"] = Replayer(app)
        replayer.start()


def stop(app: Flask) -> None:
    """Stop this process's replayer, if it runs (tests; the spool stays as it is)."""
    with _lock:
        current: Replayer | None = app.extensions.pop("callerid.replayer", None)
    if current is not None:
        current.stop()


def init_app(app: Flask) -> None:
    """Look at the spool on this process's first request (in the worker, after the fork)."""

    def look() -> None:
        try:
            waiting = recorder.spool_of(app).depth()
        except OSError as error:  # a misconfigured spool must not fail every request
            log.error("cannot read the spool: %s", error)
            return
        if waiting:
            ensure_running(app)

    on_first_request(app, look)
