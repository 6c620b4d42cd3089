"""What operators scrape at GET /metrics: counters other code bumps, gauges read at scrape time.

The rest of the app calls the small API below and never touches prometheus_client itself:

- ``webhook_outcome(route, outcome)`` once per ``/twilio/*`` request, with one of ``OUTCOMES``;
- ``stream_opened()`` / ``stream_closed()`` and ``events_delivered(n)`` from the SSE endpoint;
- ``on_scrape(app, name, help, fn)`` for a gauge worked out when Prometheus asks (spool depth,
  event lag), so that no process has to keep it up to date.

Under gunicorn every worker is its own process; ``counters`` explains how their counts are summed.
"""

from __future__ import annotations

from flask import Flask

from . import counters
from .counters import OUTCOMES, UnknownOutcome
from .scrape import on_scrape

__all__ = [
    "OUTCOMES",
    "UnknownOutcome",
    "events_delivered",
    "init_app",
    "on_scrape",
    "stream_closed",
    "stream_opened",
    "webhook_outcome",
]


def init_app(app: Flask) -> None:
    """Serve GET /metrics, start every ``/twilio/*`` route's outcomes at 0 (so a rate over the
    first failure is not lost), and register the gauges computed at scrape time."""
    from . import access, defaults, views

    # Read once at start, so that a mistyped network stops the app rather than every scrape.
    app.extensions[views.ALLOW_KEY] = access.parse_allow_list(app.config["CALLERID_METRICS_ALLOW"])
    app.register_blueprint(views.bp)
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/twilio/"):
            counters.start_route(rule.rule)
    defaults.register(app)


def webhook_outcome(route: str, outcome: str) -> None:
    """Count one request to the ``/twilio/*`` ``route`` (its URL rule, ``/twilio/voice``) that
    ended in ``outcome``, one of ``OUTCOMES``. Raises ``UnknownOutcome`` for any other: a typo
    would otherwise open a series no dashboard looks at."""
    counters.webhook(route, outcome)


def stream_opened() -> None:
    """An /events stream started sending (call ``stream_closed`` when it ends, however)."""
    counters.STREAMS.inc()


def stream_closed() -> None:
    counters.STREAMS.dec()


def events_delivered(count: int) -> None:
    """``count`` events were written to one stream (an event sent to 5 screens counts 5)."""
    if count:
        counters.EVENTS.inc(count)
