"""GET /api/insights?since=&until=&tz= (managers): the numbers behind the history pages."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from .. import db, zones
from ..auth import manager_required
from ..db import iso, utcnow
from ..history import insights
from ..request_args import bad, time_arg, zone_arg
from . import bp

MAX_DAYS = zones.MAX_DAYS


@bp.get("/insights")
@manager_required
def insight_summary() -> ResponseReturnValue:
    """``since`` and ``until`` are ISO dates or times, read in ``tz`` (default UTC) when they
    carry no offset; the default window is the last 30 local days, today included."""
    zone = zone_arg(request.args.get("tz"))
    default_since, now = insights.default_window(utcnow(), zone)
    since = time_arg(request.args.get("since"), "since", zone) or default_since
    until = time_arg(request.args.get("until"), "until", zone) or now
    if since >= until:
        bad("since must come before until.")
    if until - since > timedelta(days=MAX_DAYS):
        bad(f"Ask for at most {MAX_DAYS} days at a time.")
    return jsonify(_json(insights.summarise(db.session(), since, until, zone)))


def _json(found: insights.Insights) -> dict[str, Any]:
    return {
        "since": iso(found.since),
        "until": iso(found.until),
        "tz": found.zone,
        "total_calls": found.calls,
        "answered": found.answered,
        "answer_rate": _rate(found.answer_rate),
        "returning": found.returning,
        "returning_share": _rate(found.returning_share),
        "missed": found.missed,
        "missed_not_called_back": found.missed_open,
        **asdict(found.outreach.total),
        "per_day": [
            {
                "date": d.date.isoformat(),
                "calls": d.calls,
                "answered": d.answered,
                "missed": d.missed,
                **asdict(found.outreach.day(d.date)),
            }
            for d in found.days
        ],
        "per_hour": [{"hour": hour, "calls": calls} for hour, calls in enumerate(found.hours)],
        "top_callers": [
            {"customer_id": t.customer_id, "name": t.name, "calls": t.calls}
            for t in found.top_callers
        ],
        "screen_pop_ms": {
            "count": found.screen_pop.count,
            "median": found.screen_pop.median_ms,
            "p95": found.screen_pop.p95_ms,
        },
    }


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
