"""How many /events streams one process holds: per user, per token, and in all.

One login or token could open about 2,000 streams and fill every connection slot (issue 13,
finding 2). Streams are counted in each process, not across processes: a stream is a connection
to one worker, and a shared count would cost a database write per stream opened and closed. So
an instance of W workers allows up to W times each cap, and N instances N times that
(docs/security.md); the caps are set so that the smallest share still fits a whole site.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

# Seconds a refused screen waits before asking again (the board backs off further by itself).
RETRY_AFTER = 10


class Full(Exception):
    """No room for another stream: ``reason`` says whose cap was reached."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StreamCaps:
    """Open streams of this process, counted per user (every login and token of theirs), per
    token, and in all."""

    def __init__(self, per_user: int, total: int) -> None:
        self.per_user, self.total = per_user, total
        self._lock = threading.Lock()
        self._open: Counter[tuple[str, int]] = Counter()
        self._all = 0

    def admit(self, user_id: int, token_id: int | None) -> Callable[[], None]:
        """Count a new stream of ``user_id`` (through ``token_id``, if a token opened it) and
        return the function that uncounts it, safe to call more than once. Raises ``Full``."""
        keys = [("user", user_id)] + ([("token", token_id)] if token_id is not None else [])
        with self._lock:
            if self._all >= self.total:
                raise Full("This server holds as many screens as it can take.")
            if any(self._open[key] >= self.per_user for key in keys):
                raise Full(f"This login already has {self.per_user} screens open here.")
            self._all += 1
            for key in keys:
                self._open[key] += 1
        released = threading.Event()

        def release() -> None:
            if released.is_set():
                return
            released.set()
            with self._lock:
                self._all -= 1
                for key in keys:
                    self._open[key] -= 1
                    if not self._open[key]:
                        del self._open[key]

        return release
