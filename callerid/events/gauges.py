"""The events' gauges at /metrics, worked out at scrape time: how far behind this process's
follower is, and how many committed events still wait for a position."""

from __future__ import annotations

import functools

from flask import Flask

from .. import db, metrics
from . import store

EVENT_LAG = "callerid_event_lag"
UNPOSITIONED = "callerid_events_waiting_for_position"


def init_app(app: Flask) -> None:
    """Publish both gauges on ``app``'s /metrics (``replace=False``: a sequencer that knows
    better may have registered its own under the same name)."""
    metrics.on_scrape(
        app,
        EVENT_LAG,
        "Events in the database that this process's follower has not reached yet.",
        functools.partial(event_lag, app),
        replace=False,
    )
    metrics.on_scrape(
        app,
        UNPOSITIONED,
        "Committed events no sequencer has given a position yet (PostgreSQL): screens wait.",
        functools.partial(unpositioned, app),
        replace=False,
    )


def unpositioned(app: Flask) -> float:
    """Events committed and still without a position: above 0 for more than a moment, the
    sequencer is not running (see docs/deployment.md, "Event positions")."""
    with db.new_session(app) as session:
        db.bound(session, app.config["CALLERID_DB_TIMEOUT"])
        return store.unpositioned(session)


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
