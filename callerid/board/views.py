"""GET / (the board page) and the JSON it starts from: a snapshot of the calls on screen."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from .. import callbacks, clock, db, events, screens
from ..models import Line

bp = Blueprint("board", __name__)


@bp.get("/")
@login_required
def index() -> str:
    return render_template("board/index.html")


@bp.get("/board/live")
@login_required
def live() -> ResponseReturnValue:
    """Everything a screen needs to start: the calls on the board, the call-backs under way,
    the lines, and the id of the
    newest event, from which it follows /events (anything newer is replayed, so nothing falls
    between the snapshot and the stream)."""
    session = db.session()
    position = events.latest_position(session)  # read first: later changes arrive as events
    shown = screens.board(session)
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    today = clock.business_today(current_app.config)
    notes = screens.notes_of(session, [call.id for call in (*shown.live, *shown.recent)])
    claims = screens.claims_of(session)

    def cards(rows: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                **screens.card(session, c, region, today=today),
                "call_notes": notes.get(c.id, []),
                "claimed": claims.get(c.call_sid),
            }
            for c in rows
        ]

    lines = session.scalars(select(Line).order_by(Line.label, Line.number))
    response = jsonify(
        position=position,
        live=cards(shown.live),
        recent=cards(shown.recent),
        lines=[{"number": line.number, "label": line.label} for line in lines],
        callbacks=[callbacks.payload(c, region) for c in callbacks.in_flight(session)],
        user={"name": current_user.name},
        csrf_token=generate_csrf(),
    )
    response.headers["Cache-Control"] = "no-store"  # callers' details: never kept on disk
    return response


@bp.get("/board/token")
@login_required
def token() -> ResponseReturnValue:
    """A fresh CSRF token: the board stays open for days, Flask-WTF's tokens last an hour."""
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response
