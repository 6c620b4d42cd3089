"""Query parameters and JSON bodies, read the same way by every API view (400 when malformed)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict


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
    if not raw:
        return None
    if not raw.isdigit():
        bad(f"{name} must be a whole number.")
    return int(raw)


def limit_arg(raw: str | None, default: int, maximum: int) -> int:
    return max(1, min(int_arg(raw, "limit") or default, maximum))


def zone_arg(raw: str | None) -> ZoneInfo:
    """An IANA time zone ("Europe/Berlin"); UTC when not given."""
    try:
        return ZoneInfo(raw or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        bad(f"tz must be an IANA time zone such as Europe/Berlin, not {raw!r}.")


def log_filters(args: MultiDict[str, str]) -> dict[str, Any]:
    """The call log's filters (``history.calllog.log``), as GET /api/calls reads them."""
    return {
        "since": time_arg(args.get("since"), "since"),
        "until": time_arg(args.get("until"), "until"),
        "customer_id": int_arg(args.get("customer_id"), "customer_id"),
        "line_id": int_arg(args.get("line_id"), "line_id"),
        "status": args.get("status") or None,
    }


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
