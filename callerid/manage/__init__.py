"""The manager pages: customers, call log, missed calls, insights, data quality, users, audit.

The same services as the JSON API (``callerid.api``) behind them; staff reach the missed-calls
page, everything else here is for managers (``auth.manager_required``)."""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import Blueprint, Flask, abort, request, url_for
from flask_login import current_user

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
    NavLink("manage.audit", "Audit log", True),
]


@bp.before_request
def _same_origin_writes() -> None:
    # CSRFProtect checks every form's token; a foreign Origin is refused as on the board and API.
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(403, description="Cross-origin request refused.")


def nav_links() -> list[dict[str, Any]]:
    """The links the current user may follow, with ``current`` set on the page being shown."""
    if not current_user.is_authenticated:
        return []
    from flask import current_app

    views = current_app.view_functions
    return [
        {
            "url": url_for(link.endpoint),
            "label": link.label,
            "current": request.endpoint == link.endpoint
            or (request.endpoint or "").startswith(link.endpoint + "_"),
        }
        for link in NAV
        if link.endpoint in views and (current_user.is_manager or not link.managers_only)
    ]


def init_app(app: Flask) -> None:
    from . import audit, calllog, customers, insights, missed, quality, users  # noqa: F401

    app.register_blueprint(bp)
    app.jinja_env.globals["nav_links"] = nav_links
