"""GET /api/calls: the call log, filtered and paginated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from .. import db
from ..db import iso
from ..history import calllog
from ..models import Call
from . import bp

MAX_LIMIT = 500


@bp.get("/calls")
@login_required
def call_log() -> ResponseReturnValue:
    args = request.args
    try:
        page = calllog.log(
            db.session(),
            since=_time(args.get("since"), "since"),
            until=_time(args.get("until"), "until"),
            customer_id=_number(args.get("customer_id"), "customer_id"),
            line_id=_number(args.get("line_id"), "line_id"),
            status=args.get("status") or None,
            limit=min(_number(args.get("limit"), "limit") or 50, MAX_LIMIT),
            cursor=args.get("cursor") or None,
        )
    except calllog.BadCursor:
        abort(400, description="cursor is not one this API handed out.")
    body: dict[str, Any] = {"calls": [call_json(call) for call in page.calls], "next": None}
    if page.next_cursor:
        query = {**args.to_dict(), "cursor": page.next_cursor}
        body["next"] = url_for("api.call_log", **query)
    body["next_cursor"] = page.next_cursor
    return jsonify(body)


def call_json(call: Call) -> dict[str, Any]:
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
        "answered_by": call.answered_by,
        "outcome": call.outcome,
        "duration": call.duration,
        "received_at": iso(call.received_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
    }


def _time(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        abort(400, description=f"{name} must be an ISO 8601 date or time, e.g. 2026-11-20.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(raw: str | None, name: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        abort(400, description=f"{name} must be a whole number.")
    return int(raw)
