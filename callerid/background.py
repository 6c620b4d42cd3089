"""Work a process does on its own, beside requests: a thread (a greenlet under gevent) that runs
until it is stopped. The events' LISTEN connection and WAL watch, the event sequencer and the
spool's replayer are each one."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable

from flask import Flask


def on_first_request(app: Flask, start: Callable[[], None]) -> None:
    """Run ``start`` once per process, on its first request: in the gunicorn worker, after the
    fork (a thread started in the master before it would not be in the workers)."""
    first = threading.Event()

    @app.before_request
    def _once() -> None:
        if not first.is_set():
            first.set()
            start()


class Background(ABC):
    """Subclasses give ``NAME`` and ``_run``, which returns soon after ``_stopped`` is set."""

    NAME = "callerid-background"
    # How long ``stop`` waits for ``_run`` to return.
    STOP_WITHIN = 6.0

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.NAME, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask ``_run`` to end, and wait for it (not from its own thread)."""
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(self.STOP_WITHIN)

    @abstractmethod
    def _run(self) -> None:
        """The work, in the thread: return soon after ``_stopped`` is set."""
