"""Per-token request budgets, kept in each process's memory: a token bucket per key.

No shared store: Flask-Limiter has no SQL storage and callerid runs no other server, so each
gunicorn worker counts on its own and a token may get up to workers x the budget. That is
enough for what it is for, keeping one misbehaving phone system from crowding out the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Throttle:
    """At most ``per_minute`` requests per key, refilled evenly; a full minute's worth may come
    at once. Keys are forgotten once their bucket is full again, so memory stays bounded by
    the keys active in the last minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(max(1, per_minute))
        self.rate = self.capacity / 60.0
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[object, tuple[float, float]] = {}

    def take(self, key: object) -> float:
        """Spend one request of ``key``'s budget: 0.0 when allowed, else the seconds until one
        is available again (nothing is spent)."""
        now = self._clock()
        with self._lock:
            level, then = self._buckets.get(key, (self.capacity, now))
            level = min(self.capacity, level + (now - then) * self.rate)
            if level < 1.0:
                self._buckets[key] = (level, now)
                return (1.0 - level) / self.rate
            self._buckets[key] = (level - 1.0, now)
            if len(self._buckets) > 1000:
                self._forget_full(now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        full_after = self.capacity / self.rate
        self._buckets = {
            key: (level, then)
            for key, (level, then) in self._buckets.items()
            if now - then < full_after
        }
