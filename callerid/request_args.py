"""Query parameters and JSON bodies, read the same way by the API and the manager pages (400
when malformed)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from flask import abort, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from . import inputs, zones
from .history import calllog


def time_arg(raw: str | None, name: str, zone: tzinfo = UTC) -> datetime | None:
    """An ISO 8601 date or time; without an offset it is read in ``zone`` (a date is midnight)."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        bad(f"{name} must be an ISO 8601 date or time, e.g. 2026-11-20.")
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def int_arg(raw: str | None, name: str) -> int | None:
    """A whole number from 0 to ``inputs.MAX_ID`` written in digits; None when not given."""
    if not raw:
        return None
    value = inputs.whole_number(raw)
    if value is None:
        bad(f"{name} must be a whole number from 0 to {inputs.MAX_ID}.")
    return value


def link_query(args: MultiDict[str, str], **changes: Any) -> dict[str, Any]:
    """A request's query again, for the link to its next page: ``changes`` applied, and any name
    starting with "_" dropped, since ``url_for`` reads those itself (``?_external=1`` would
    make the link absolute, ``_anchor`` add a fragment)."""
    kept = {name: value for name, value in args.to_dict().items() if not name.startswith("_")}
    return {**kept, **changes}


def limit_arg(raw: str | None, default: int, maximum: int) -> int:
    return max(1, min(int_arg(raw, "limit") or default, maximum))


def zone_arg(raw: str | None) -> ZoneInfo:
    """An IANA time zone ("Europe/Berlin"); UTC when not given."""
    try:
        return zones.zone_named(raw)
    except zones.UnknownZone:
        bad(f"tz must be an IANA time zone such as Europe/Berlin, not {raw!r}.")


# The query parameters of the call log (GET /api/calls, its CSV and the call log page all take
# these), in the order the audit trail writes them.
LOG_FILTERS = (
    "since",
    "until",
    "customer_id",
    "line_id",
    "status",
    "caller",
    "outcome",
    "answered_by",
    "tz",
)


def log_filters(args: MultiDict[str, str]) -> dict[str, Any]:
    """The call log's filters (``history.calllog.log``), read the same way by GET /api/calls,
    GET /api/calls.csv and the call log page. ``since`` and ``until`` without an offset are read
    in ``tz`` (an IANA zone, default UTC); a date is that day's midnight, ``until`` excluded."""
    zone = zone_arg(args.get("tz"))
    since = time_arg(args.get("since"), "since", zone)
    until = time_arg(args.get("until"), "until", zone)
    if since and until and since >= until:
        bad("since must come before until.")
    return {
        "since": since,
        "until": until,
        "customer_id": int_arg(args.get("customer_id"), "customer_id"),
        "line_id": int_arg(args.get("line_id"), "line_id"),
        "status": choice_arg(args.get("status"), "status", calllog.STATUSES),
        "caller": choice_arg(args.get("caller"), "caller", calllog.CALLERS),
        "outcome": choice_arg(args.get("outcome"), "outcome", calllog.OUTCOME_FILTERS),
        "answered_by": args.get("answered_by", "").strip() or None,
    }


def choice_arg(raw: str | None, name: str, allowed: tuple[str, ...]) -> str | None:
    """One of ``allowed``; None when not given."""
    if not raw:
        return None
    if raw not in allowed:
        bad(f"{name} must be one of {', '.join(allowed)}; {raw!r} is not.")
    return raw


def json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        bad("Send a JSON object with Content-Type: application/json.")
    return body


def actor() -> tuple[str, int]:
    """Who is asking, for the audit trail: their name and user id."""
    return current_user.name, current_user.id


def bad(message: str) -> NoReturn:
    abort(400, description=message)
