"""The manager pages: customers, call log, missed calls, insights, data quality, users, webhooks,
settings, audit.

The same services as the JSON API (``callerid.api``) behind them; staff reach the missed-calls
page, everything else here is for managers (``auth.manager_required``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

from flask import Blueprint, Flask, current_app, request, url_for
from flask_login import current_user

from .. import zones

bp = Blueprint("manage", __name__)


class NavLink(NamedTuple):
    endpoint: str
    label: str
    managers_only: bool


# The top bar's links, in order; a page appears once its view exists.
NAV = [
    NavLink("board.index", "Board", False),
    NavLink("manage.missed", "Missed calls", False),
    NavLink("manage.customers", "Customers", True),
    NavLink("manage.call_log", "Call log", True),
    NavLink("manage.insights", "Insights", True),
    NavLink("manage.quality", "Data quality", True),
    NavLink("manage.users", "Users", True),
    NavLink("manage.webhooks", "Webhooks", True),
    NavLink("manage.settings", "Settings", True),
    NavLink("manage.audit", "Audit log", True),
]


def nav_links() -> list[dict[str, Any]]:
    """The links the current user may follow, with ``current`` set on the page being shown."""
    if not current_user.is_authenticated:
        return []
    views = current_app.view_functions
    return [
        {
            "url": url_for(link.endpoint),
            "label": link.label,
            "current": request.endpoint == link.endpoint
            or (request.endpoint or "").startswith(link.endpoint + "_"),
            "count": _missed_count() if link.endpoint == "manage.missed" else None,
        }
        for link in NAV
        if link.endpoint in views and (current_user.is_manager or not link.managers_only)
    ]


def _missed_count() -> int | None:
    """Callers waiting to be called back, beside "Missed calls" (as /missed lists them, one row
    per caller); None if the database fails, so that an error page still renders."""
    from sqlalchemy.exc import SQLAlchemyError

    from .. import db
    from ..history import missed

    try:
        return missed.waiting(db.session(), since=open_since()).callers
    except SQLAlchemyError:
        db.session().rollback()
        return None


def business_time(moment: datetime) -> datetime:
    """A time from the database (UTC) in the business's zone, ``CALLERID_TIMEZONE``; a time a
    page already placed in a zone of the manager's choosing is left as it is."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.tzinfo is not UTC:
        return moment
    return moment.astimezone(zones.business_zone(current_app.config))


_PHONE = re.compile(r"^[+\d][\d\s()-]*$")
_EXTENSION = re.compile(r"^\d{1,6}$")


def answerer(answered_by: str) -> str:
    """Who answered, in the board's words: a phone system's extension is "extension 101", a
    desk leg dialled to a phone number "the desk phone" (static/js/format.js says the same),
    a named desk or person keeps their name."""
    if _EXTENSION.match(answered_by or ""):
        return f"extension {answered_by}"
    return "the desk phone" if _PHONE.match(answered_by or "") else answered_by


def init_app(app: Flask) -> None:
    from . import (  # noqa: F401  (their routes join the blueprint)
        audit,
        calllog,
        customer_merge,
        customers,
        insights,
        missed,
        quality,
        settings,
        users,
        webhooks,
    )

    app.register_blueprint(bp)
    app.jinja_env.globals["nav_links"] = nav_links
    app.jinja_env.filters["business_time"] = business_time
    app.jinja_env.filters["answerer"] = answerer


def open_since() -> datetime:
    """Where the missed calls waiting to be called back start: ``history.missed.open_since`` in
    the business's time zone."""
    from ..db import utcnow
    from ..history import missed

    zone = zones.business_zone(current_app.config)
    return missed.open_since(zone, utcnow())
