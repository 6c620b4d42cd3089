"""The counters and gauges that code bumps as things happen, in every gunicorn worker.

Each worker is a process with its own memory, so with plain prometheus_client a scrape would
show whichever worker answered it. With ``PROMETHEUS_MULTIPROC_DIR`` set before the process
starts (scripts/run, the systemd unit, config/gunicorn.conf.py), prometheus_client keeps every
value in a small memory-mapped file per process in that folder instead, and a scrape sums them
(``exposition.collectors``). Unset (tests, the CLI), values live in this process's memory.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics

# The *_created series are not written in multiprocess mode; leaving them out everywhere keeps
# a scrape the same shape whichever mode the process runs in.
disable_created_metrics()

# Each request ends in one of these but "retried", which is counted besides, once per request
# whose write was tried again (docs/deployment.md, Metrics).
OUTCOMES = ("recorded", "failed_open", "retried", "spooled", "refused", "forbidden", "malformed")

# Only used when not in multiprocess mode: the values of this process alone.
LOCAL = CollectorRegistry(auto_describe=True)

WEBHOOKS = Counter(
    "callerid_webhook_requests",
    "Requests to /twilio/* routes by what became of them; retried is counted besides the end.",
    ["route", "outcome"],
    registry=LOCAL,
)
STREAMS = Gauge(
    "callerid_event_streams_open",
    "Open /events streams (screens connected), across the workers alive now.",
    multiprocess_mode="livesum",
    registry=LOCAL,
)
DB_IN_USE = Gauge(
    "callerid_db_connections_in_use",
    "Pooled database connections held by requests and background work, across live workers.",
    multiprocess_mode="livesum",
    registry=LOCAL,
)
DB_WAITING = Gauge(
    "callerid_db_waiting",
    "Requests waiting for a pooled database connection now, across live workers.",
    multiprocess_mode="livesum",
    registry=LOCAL,
)
DB_TURNED_AWAY = Counter(
    "callerid_db_turned_away",
    "Requests that got no database connection: the queue was full, or their wait timed out.",
    ["reason"],
    registry=LOCAL,
)
EVENTS = Counter(
    "callerid_events_delivered",
    "Events written to /events streams; one event sent to five screens counts five.",
    registry=LOCAL,
)


class UnknownOutcome(ValueError):
    """An outcome not in ``OUTCOMES``: a bug in the caller, not something a request can cause."""


def webhook(route: str, outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise UnknownOutcome(f"unknown webhook outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
    WEBHOOKS.labels(route, outcome).inc()


def start_route(route: str) -> None:
    """Show every outcome of ``route`` from the first scrape, at 0."""
    for outcome in OUTCOMES:
        WEBHOOKS.labels(route, outcome)
