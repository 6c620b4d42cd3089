"""Twilio: webhooks in, TwiML out. Another provider would be one more package beside this one."""

from __future__ import annotations

import functools

from flask import Flask

from .. import metrics
from . import messaging, outbound, recorder, replayer, texting  # noqa: F401 - their routes join bp
from .views import bp

__all__ = ["bp", "init_app", "publish_spool_depth"]
SPOOL_DEPTH = "callerid_spool_depth"


def init_app(app: Flask) -> None:
    """Replay the spool after a restart, send the missed-call texts when due, and publish the
    spool's depth at /metrics."""
    replayer.init_app(app)
    texting.init_app(app)
    publish_spool_depth(app)


def publish_spool_depth(app: Flask) -> None:
    """The spool's depth as a gauge read at scrape time (``replace=False``: a gauge registered
    under the same name before this one stays)."""
    metrics.on_scrape(
        app,
        SPOOL_DEPTH,
        "Webhook payloads kept in this instance's spool, waiting for the database.",
        functools.partial(_spool_depth, app),
        replace=False,
    )


def _spool_depth(app: Flask) -> float:
    return recorder.spool_of(app).depth()
