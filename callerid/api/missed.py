"""GET /api/missed and POST /api/missed/<call_sid>/called-back (staff and managers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from .. import db, zones
from ..db import iso, utcnow
from ..history import calllog, missed, returned
from ..request_args import limit_arg, time_arg
from . import bp

MAX_GROUPS = 500


@bp.get("/missed")
@login_required
def missed_list() -> ResponseReturnValue:
    """Open missed calls of the last ``DEFAULT_DAYS`` days (or ``since``), grouped per caller."""
    since = time_arg(request.args.get("since"), "since") or _open_since()
    groups = missed.open_groups(
        db.session(), since=since, limit=limit_arg(request.args.get("limit"), 100, MAX_GROUPS)
    )
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    return jsonify({"since": iso(since), "groups": [_group_json(g, region) for g in groups]})


@bp.get("/missed/count")
@login_required
def missed_count() -> ResponseReturnValue:
    """Who waits to be called back, over the last ``DEFAULT_DAYS`` days of the business: the
    callers (what the navigation shows, refetched by the board when a call ends missed or is
    called back) and their calls; ``open`` is ``open_calls`` under its old name, for a release."""
    found = missed.waiting(db.session(), since=_open_since())
    response = jsonify(
        {"open_callers": found.callers, "open_calls": found.calls, "open": found.calls}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/missed/<call_sid>/called-back")
@login_required
def called_back(call_sid: str) -> ResponseReturnValue:
    session = db.session()
    try:
        done = returned.call_back(session, call_sid, current_user.name)
    except returned.UnknownCall:
        abort(404, description=f"No call {call_sid}.")
    except returned.NotMissed:
        abort(409, description=f"Call {call_sid} was answered: there is nothing to call back.")
    session.commit()
    return jsonify(
        {
            "call_sid": done.call.call_sid,
            "called_back_at": iso(done.call.called_back_at),
            "called_back_by": done.call.called_back_by,
            "marked": done.marked,
        }
    )


@bp.post("/missed/<call_sid>/called-back/undo")
@login_required
def called_back_undo(call_sid: str) -> ResponseReturnValue:
    """Undo a "Called back": the calls it marked wait again."""
    session = db.session()
    try:
        reopened = returned.undo_call_back(session, call_sid, current_user.name)
    except returned.UnknownCall:
        abort(404, description=f"No call {call_sid}.")
    except returned.NotCalledBack:
        abort(409, description=f"Call {call_sid} is not marked called back.")
    session.commit()
    return jsonify({"call_sid": call_sid, "reopened": reopened})


def _group_json(group: missed.Group, region: str) -> dict[str, Any]:
    call = group.last_call
    customer = call.customer
    number = call.from_number
    display = calllog.caller_display(call, region)
    return {
        "caller": group.caller,
        "caller_kind": call.caller_kind,
        "customer": {"id": customer.id, "name": customer.name} if customer else None,
        "number": number,
        "display": display,
        "count": group.count,
        "first_missed_at": iso(group.first_missed_at),
        "last_missed_at": iso(group.last_missed_at),
        "call_sid": call.call_sid,
    }


def _open_since() -> datetime:
    zone = zones.business_zone(current_app.config)
    return missed.open_since(zone, utcnow())
