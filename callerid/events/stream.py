"""GET /events: Server-Sent Events for the board, replayed from Last-Event-ID, then live."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

from flask import Blueprint, Flask, Response, abort, request
from flask_login import current_user

from .. import auth, db, inputs, metrics
from ..auth.login_sessions import LiveChecks
from ..running_app import running_app
from . import caps, sequencer, sse, wakeup
from .follower import Follower

bp = Blueprint("events", __name__)
_start_lock = threading.Lock()
# After a deploy every screen reconnects at once. Checking who they are takes a pooled
# connection each; letting a few at a time do it (a gevent-aware semaphore once gunicorn's
# config has patched threading) queues the rest cheaply instead of draining the pool that
# Twilio's webhooks need, and instead of failing them after the pool's short timeout.
ADMIT_AT_ONCE = 8  # of the pool's 10 (+10 overflow) per process: webhooks keep the rest
# Seconds a screen may queue before it is told to retry (503). Queued, it costs a greenlet and a
# socket; a retry would cost a new connection and a new place at the back of the queue.
ADMIT_PATIENCE = 30.0
RETRY_AFTER = 2  # seconds; what browsers wait anyway (sse.RETRY_MS)
_admission = threading.BoundedSemaphore(ADMIT_AT_ONCE)


@bp.get("/events")
def events() -> Response:
    app = running_app()
    admitted_with, user_id = _authenticate(app)
    follower = follower_for(app)
    position = _start_position(follower)
    heartbeat = app.config["CALLERID_HEARTBEAT"]

    checks = app.extensions.setdefault("callerid.live_checks", LiveChecks())

    def still_allowed() -> bool:
        return checks.is_live(lambda: db.new_session(app), *admitted_with)

    lines = _lines(follower, position, heartbeat, still_allowed)
    release = _admit(app, user_id, admitted_with)
    response = Response(lines, mimetype="text/event-stream")
    # Called when the server closes the response, even one whose stream never started.
    response.call_on_close(release)
    response.headers["Cache-Control"] = "no-cache"
    # nginx buffers responses by default, which would hold events back.
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _admit(app: Flask, user_id: int, admitted_with: tuple[str, int]) -> Callable[[], None]:
    """Count the stream against its user's, its token's and this process's caps; 429 with
    Retry-After when one is full. Returns what uncounts it."""
    stream_caps = app.extensions.get("callerid.stream_caps")
    if stream_caps is None:
        stream_caps = app.extensions.setdefault(
            "callerid.stream_caps",
            caps.StreamCaps(
                app.config["CALLERID_STREAMS_PER_USER"], app.config["CALLERID_STREAMS_TOTAL"]
            ),
        )
    kind, ident = admitted_with
    try:
        return stream_caps.admit(user_id, ident if kind == "token" else None)
    except caps.Full as full:
        abort(429, description=full.reason, retry_after=caps.RETRY_AFTER)


def _authenticate(app: Flask) -> tuple[tuple[str, int], int]:
    """Staff or managers only (session or bearer token), checked a few at a time; the pooled
    connection goes back before the stream starts, so an open screen holds none. Returns the
    credential the stream was let in with, which it checks again at every heartbeat, and its
    user's id."""
    if not _admission.acquire(timeout=ADMIT_PATIENCE):
        abort(
            503,
            description="Too many screens connecting at once; retry shortly.",
            retry_after=RETRY_AFTER,
        )
    try:
        admitted_with = auth.credential() if current_user.is_authenticated else None
        user_id = current_user.id if admitted_with is not None else 0
    finally:
        db.release_session()
        _admission.release()
    if admitted_with is None:
        # Set by Flask-Login's init_app at run time; Flask's class does not declare it.
        abort(app.login_manager.unauthorized())  # type: ignore[attr-defined]
    return admitted_with, user_id


def _start_position(follower: Follower) -> int:
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("after")):
        position = inputs.whole_number(raw.strip() if raw else None, inputs.MAX_BIG_ID)
        if position is not None:
            return position
    return follower.position


def _lines(
    follower: Follower, position: int, heartbeat: float, still_allowed: Callable[[], bool]
) -> Iterator[bytes]:
    # The server closes this generator when the screen goes away (or the worker stops): the
    # finally is where an open stream stops being counted.
    metrics.stream_opened()
    try:
        # Sent at once so the screen knows it is connected before the first call rings.
        yield sse.opening(position)
        while True:
            position, frames = follower.frames_after(position, timeout=heartbeat)
            if not still_allowed():
                # Logged out, reset, deactivated or revoked: the stream ends within a heartbeat
                # and the browser's reconnection meets the login page's 401.
                return
            if frames:
                metrics.events_delivered(sse.count(frames))
            yield frames or sse.HEARTBEAT
    finally:
        metrics.stream_closed()


def follower_for(app: Flask) -> Follower:
    """This process's follower for ``app``, started on first use (in the worker, after any fork)."""
    follower = app.extensions.get("callerid.follower")
    if follower is None:
        with _start_lock:
            follower = app.extensions.get("callerid.follower")
            if follower is None:
                follower = Follower(
                    lambda: db.new_session(app),
                    app.config["CALLERID_EVENT_POLL"],
                    timedelta(days=app.config["CALLERID_EVENT_RETENTION_DAYS"]),
                    wakeup=wakeup.for_engine(db.engine_for(app)),
                )
                app.extensions["callerid.follower"] = follower
                # Positions are what the follower reads: a process that follows is a candidate
                # to give them (PostgreSQL; one process at a time does).
                candidate = sequencer.for_engine(db.engine_for(app))
                if candidate is not None:
                    app.extensions["callerid.sequencer"] = candidate
                    candidate.start()
    return follower


def wake(app: Flask) -> None:
    """Tell this process's streams that an event was just committed here."""
    follower = app.extensions.get("callerid.follower")
    if follower is not None:
        follower.wake()
