"""The pool's connections and queue, counted as they change.

The gauges read at scrape time belong to their subjects, which register them with
``on_scrape``: the spool's depth (telephony) and the events' lag (events.gauges).
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from .. import db
from ..pool import CountedPool, PoolWatch
from . import counters


def register(app: Flask) -> None:
    """Count the pool's connections and queue as they change."""
    _count_connections(app)


def _count_connections(app: Flask) -> None:
    # Checked out and checked in by the pool itself, so every user of it is counted; once.
    if app.extensions.setdefault("callerid.counting_connections", False):
        return
    app.extensions["callerid.counting_connections"] = True
    engine = db.engine_for(app)
    event.listen(engine, "checkout", lambda *_: counters.DB_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: counters.DB_IN_USE.dec())
    if isinstance(engine.pool, CountedPool):
        engine.pool.watch = PoolWatch(waiting=counters.DB_WAITING.inc, refused=_turned_away)
    for reason in ("full", "timeout"):
        counters.DB_TURNED_AWAY.labels(reason)  # shown at 0 from the first scrape


def _turned_away(reason: str) -> None:
    counters.DB_TURNED_AWAY.labels(reason).inc()
