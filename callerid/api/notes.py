"""POST /api/calls/<call_sid>/notes: the desk adds a note and an outcome to a call."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from .. import calls, clock, db, screens
from ..events import stream
from . import bp


@bp.post("/calls/<call_sid>/notes")
@login_required
def add_note(call_sid: str) -> ResponseReturnValue:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description='Send JSON: {"body": "...", "outcome": "booking"}.')
    text, outcome = body.get("body", ""), body.get("outcome")
    if not isinstance(text, str) or not (outcome is None or isinstance(outcome, str)):
        abort(400, description="body and outcome must be text.")
    session = db.session()
    call = calls.find(session, call_sid)
    if call is None:
        abort(404, description=f"No call {call_sid}.")
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    try:
        note, _ = screens.add_note(
            session,
            call,
            region,
            body=text,
            outcome=outcome,
            author=current_user._get_current_object(),
            today=clock.business_today(current_app.config),
        )
    except screens.InvalidNote as exc:
        abort(400, description=str(exc))
    session.commit()
    stream.wake(current_app)
    answer: dict[str, Any] = {"call_sid": call.call_sid, "outcome": call.outcome}
    answer["note"] = screens.note_json(note) if note else None
    return jsonify(answer), 201
