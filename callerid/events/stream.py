"""GET /events: Server-Sent Events for the board, replayed from Last-Event-ID, then live."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

from flask import Blueprint, Flask, Response, current_app, request

from .. import db
from ..auth import login_required_api
from .follower import Follower

bp = Blueprint("events", __name__)
_start_lock = threading.Lock()


@bp.get("/events")
@login_required_api
def events() -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    follower = follower_for(app)
    position = _start_position(follower)
    heartbeat = app.config["CALLERID_HEARTBEAT"]
    response = Response(_lines(follower, position, heartbeat), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    # nginx buffers responses by default, which would hold events back.
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _start_position(follower: Follower) -> int:
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("after")):
        if raw and raw.strip().isdigit():
            return int(raw)
    return follower.position


def _lines(follower: Follower, position: int, heartbeat: float) -> Iterator[str]:
    # Sent at once so the screen knows it is connected before the first call rings.
    yield f'retry: 2000\nevent: stream.open\ndata: {{"position": {position}}}\n\n'
    while True:
        fresh = follower.after(position, timeout=heartbeat)
        if not fresh:
            yield ": heartbeat\n\n"
            continue
        chunk = []
        for event in fresh:
            chunk.append(f"id: {event.id}\nevent: {event.kind}\ndata: {event.data}\n\n")
            position = event.id
        yield "".join(chunk)


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
                )
                app.extensions["callerid.follower"] = follower
    return follower


def wake(app: Flask) -> None:
    """Tell this process's streams that an event was just committed here."""
    follower = app.extensions.get("callerid.follower")
    if follower is not None:
        follower.wake()
