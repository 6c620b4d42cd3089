"""GET /api/calls: the call log, filtered and paginated."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from .. import db
from ..db import iso
from ..history import calllog
from ..models import Call
from ..request_args import bad, limit_arg, link_query, log_filters
from . import bp

MAX_LIMIT = 500


@bp.get("/calls")
@login_required
def call_log() -> ResponseReturnValue:
    args = request.args
    try:
        page = calllog.log(
            db.session(),
            **log_filters(args),
            limit=limit_arg(args.get("limit"), 50, MAX_LIMIT),
            cursor=args.get("cursor") or None,
        )
    except calllog.BadCursor:
        bad("cursor is not one this API handed out.")
    body: dict[str, Any] = {
        "calls": [call_json(call, page.callers.get(call.id)) for call in page.calls],
        "next": None,
    }
    if page.next_cursor:
        body["next"] = url_for("api.call_log", **link_query(args, cursor=page.next_cursor))
    body["next_cursor"] = page.next_cursor
    return jsonify(body)


def call_json(call: Call, caller: str | None = None) -> dict[str, Any]:
    """A call as the API and its CSV show it; ``caller`` is new, returning or unknown
    (``history.calllog.CALLERS``), from the call log page it came with."""
    customer = call.customer
    return {
        "call_sid": call.call_sid,
        "from": call.from_number,
        "caller_kind": call.caller_kind,
        "line": {"number": call.line.number, "label": call.line.label} if call.line else None,
        "direction": call.direction,
        "status": call.status,
        "is_missed": call.is_missed,
        "customer": {"id": customer.id, "name": customer.name} if customer else None,
        "matched_by": call.matched_by,
        "caller": caller,
        "answered_by": call.answered_by,
        "outcome": call.outcome,
        "duration": call.duration,
        "received_at": iso(call.received_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
        "voicemail_url": call.voicemail_url,
    }
