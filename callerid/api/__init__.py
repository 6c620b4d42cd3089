"""The JSON API: the same data the pages show, for wallboards, scripts and other systems."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user

from ..auth import bearer_token
from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _same_origin_writes() -> None:
    """Session-authenticated writes must come from our own pages (CSRF header, same origin);
    bearer-token clients carry no ambient credentials and need neither. A request that sends a
    bearer token got this far only with a live one, which alone says who it is
    (``auth._bearer_or_401``): its session cookie, if any, is not used."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if bearer_token(request) is not None:
        return
    if not current_user.is_authenticated:
        return  # login_required answers 401
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(403, description="Cross-origin request refused.")
    csrf.protect()


from . import (  # noqa: E402,F401  (routes register on bp)
    audit,
    callbacks,
    callers,
    calls,
    customers,
    export,
    insights,
    missed,
    notes,
    openapi,
    phone,
    webhooks,
)
