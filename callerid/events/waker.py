"""What the two wake-ups (PostgreSQL LISTEN, SQLite's WAL watch) share: a thread that tells the
follower "look now", once when it starts hearing and on every piece of news after that."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..background import Background

# How often a wake-up that hears nothing checks whether it was stopped.
TICK = 1.0


class Waker(Background):
    """A thread (a greenlet under gevent) whose ``_run`` hears of commits and calls
    ``on_news``; ``listening`` says whether it hears anything now (the follower polls faster
    while it does not). ``stop`` returns within ``TICK`` seconds and a margin."""

    STOP_WITHIN = TICK + 5

    def __init__(self, on_news: Callable[[], None]) -> None:
        self._on_news = on_news
        self.listening = False
        super().__init__()

    @contextmanager
    def _hearing(self) -> Iterator[None]:
        """Listening for the block. News comes once at its start: anything committed before
        the wake-up could hear it was never announced."""
        self.listening = True
        try:
            self._on_news()
            yield
        finally:
            self.listening = False
