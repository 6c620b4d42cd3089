"""POST /api/calls/<call_sid>/call-back and GET /api/callbacks/<id> (staff and managers): call
a caller back in one click, and follow how it goes."""

from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from .. import callbacks, db
from ..running_app import running_app
from ..telephony import outbound, rest
from . import bp


@bp.post("/calls/<call_sid>/call-back")
@login_required
def call_back(call_sid: str) -> ResponseReturnValue:
    """Start a call-back to the caller of ``call_sid``: 202 at once with its progress so far;
    Twilio is asked beside this request. 409 with the reason in words when it cannot start."""
    settings = current_app.config
    if not settings["CALLERID_CALLBACKS"]:
        abort(409, description="Call-backs are off on this server (CALLERID_CALLBACKS).")
    try:
        rest.client(settings)
    except rest.NotConfigured as error:
        abort(409, description=rest.refusal(error))
    session = db.session()
    region = settings["CALLERID_DEFAULT_REGION"]
    try:
        callback = callbacks.start(
            session, call_sid, current_user, settings["CALLERID_FORWARD_TO"], region
        )
    except callbacks.UnknownCall:
        abort(404, description=f"No call {call_sid}.")
    except callbacks.CannotCallBack as refused:
        abort(409, description=str(refused))
    session.commit()
    base = settings["CALLERID_PUBLIC_URL"] or request.host_url
    app = running_app()
    outbound.place(app, callback.id, base)
    return jsonify({"callback": callbacks.payload(callback, region)}), 202


@bp.get("/callbacks/<int:callback_id>")
@login_required
def callback_detail(callback_id: int) -> ResponseReturnValue:
    callback = callbacks.get(db.session(), callback_id)
    if callback is None:
        abort(404, description=f"No call-back {callback_id}.")
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    response = jsonify({"callback": callbacks.payload(callback, region)})
    response.headers["Cache-Control"] = "no-store"
    return response
