"""The gauges worked out at scrape time: the spool's depth, and how far behind the events this
process's follower is; and the pool's connections and queue, counted as they change.

Both are registered through ``scrape.on_scrape``, so code that knows better (a sequencer's
positions) registers its function under the same name and this default is gone, whether it
registers before or after ``metrics.init_app``.
"""

from __future__ import annotations

import functools

from flask import Flask
from sqlalchemy import event

from .. import db
from ..events import store
from ..pool import CountedPool, PoolWatch
from . import counters
from .scrape import on_scrape

SPOOL_DEPTH = "callerid_spool_depth"
EVENT_LAG = "callerid_event_lag"
UNPOSITIONED = "callerid_events_waiting_for_position"


def register(app: Flask) -> None:
    on_scrape(
        app,
        SPOOL_DEPTH,
        "Webhook payloads kept in this instance's spool, waiting for the database.",
        functools.partial(spool_depth, app),
        replace=False,
    )
    on_scrape(
        app,
        EVENT_LAG,
        "Events in the database that this process's follower has not reached yet.",
        functools.partial(event_lag, app),
        replace=False,
    )
    on_scrape(
        app,
        UNPOSITIONED,
        "Committed events no sequencer has given a position yet (PostgreSQL): screens wait.",
        functools.partial(unpositioned, app),
        replace=False,
    )
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


def unpositioned(app: Flask) -> float:
    """Events committed and still without a position: above 0 for more than a moment, the
    sequencer is not running (see docs/deployment.md, "Event positions")."""
    with db.new_session(app) as session:
        db.bound(session, app.config["CALLERID_DB_TIMEOUT"])
        return store.unpositioned(session)


def spool_depth(app: Flask) -> float:
    from ..telephony import recorder  # telephony registers its routes before metrics start

    return recorder.spool_of(app).depth()


def event_lag(app: Flask) -> float:
    """The newest position minus the one this process's follower has reached; 0 while no
    screen has connected to this process (it follows nothing, so nothing is late)."""
    follower = app.extensions.get("callerid.follower")
    with db.new_session(app) as session:
        db.bound(session, app.config["CALLERID_DB_TIMEOUT"])
        newest = store.latest_position(session)
    if follower is None:
        return 0
    return max(newest - follower.position, 0)
