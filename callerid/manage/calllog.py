"""GET /calls (managers): the call log page, filtered exactly as GET /api/calls and its CSV are."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from .. import db
from ..auth import manager_required
from ..history import calllog
from ..models import Call, Line
from ..models.calls import OUTCOMES
from ..request_args import LOG_FILTERS, log_filters, zone_arg
from . import bp

PAGE = 50
STATUS_CHOICES = [
    ("missed", "Missed"),
    ("answered", "Answered"),
    ("completed", "Completed"),
    ("no-answer", "No answer"),
    ("busy", "Busy"),
    ("canceled", "Hung up while ringing"),
    ("failed", "Failed"),
    ("ringing", "Ringing"),
    ("in-progress", "In progress"),
]
CALLER_CHOICES = [
    ("new", "New"),
    ("returning", "Returning"),
    ("unknown", "Withheld or unknown"),
]
OUTCOME_CHOICES = [(outcome, outcome.capitalize()) for outcome in OUTCOMES] + [
    ("none", "No outcome")
]


@bp.get("/calls")
@manager_required
def call_log() -> ResponseReturnValue:
    """The filters are GET /api/calls's (``request_args.log_filters``); ``tz`` defaults to the
    site's zone and is always written into the links, so the CSV reads the dates the same way."""
    args = with_zone(request.args)
    shown: dict[str, Any] = {key: args[key] for key in LOG_FILTERS if args.get(key)}
    session = db.session()
    context: dict[str, Any] = {"values": shown, "error": None, "rows": [], **_choices(session)}
    try:
        zone = zone_arg(args.get("tz"))
        page = calllog.log(
            session, **log_filters(args), limit=PAGE, cursor=args.get("cursor") or None
        )
    except BadRequest as error:
        context["error"] = error.description
        return render_template("manage/calllog.html", **context), 400
    except calllog.BadCursor:
        context["error"] = "That page link is broken: start again from the newest calls."
        return render_template("manage/calllog.html", **context), 400
    context.update(
        rows=_rows(session, page, zone),
        zone=zone.key,
        next_url=url_for("manage.call_log", **shown, cursor=page.next_cursor)
        if page.next_cursor
        else None,
        first_url=url_for("manage.call_log", **shown) if args.get("cursor") else None,
        # People open it in a spreadsheet: the page's times, notes, a dated name (api.export).
        csv_url=url_for("api.calls_csv", **shown, format="excel"),
    )
    return render_template("manage/calllog.html", **context)


def with_zone(args: MultiDict[str, str]) -> MultiDict[str, str]:
    if args.get("tz"):
        return args
    found = MultiDict(args)
    found["tz"] = current_app.config.get("CALLERID_TIMEZONE") or "UTC"
    return found


def _choices(session: Any) -> dict[str, Any]:
    return {
        "lines": session.scalars(select(Line).order_by(Line.label, Line.number)).all(),
        "staff": calllog.answerers(session),
        "statuses": STATUS_CHOICES,
        "callers": CALLER_CHOICES,
        "outcomes": OUTCOME_CHOICES,
        "zones": _zones(),
    }


@cache
def _zones() -> list[str]:
    return sorted(available_timezones())


def _rows(session: Any, page: calllog.Page, zone: Any) -> list[dict[str, Any]]:
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    notes = calllog.notes_counts(session, [call.id for call in page.calls])
    linked = "manage.customers_show" in current_app.view_functions
    return [
        {
            "call": call,
            "at": call.received_at.astimezone(zone),
            "customer_url": url_for("manage.customers_show", customer_id=call.customer.id)
            if linked and call.customer
            else None,
            "number": calllog.caller_display(call, region),
            "status": status_of(call),
            "caller": page.callers.get(call.id, ""),
            "duration": _duration(call.duration),
            "notes": notes.get(call.id, 0),
        }
        for call in page.calls
    ]


def status_of(call: Call) -> tuple[str, str]:
    """The badge of a call: (its modifier, its words)."""
    if call.is_missed:
        return "missed", "Missed"
    if call.answered_at is not None:
        return "answered", "Answered"
    if call.status in {"queued", "initiated", "ringing", "in-progress"}:
        return "ringing", "Ringing" if call.status != "in-progress" else "In progress"
    return "ended", call.status.replace("-", " ").capitalize()


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}:{rest:02d}"
