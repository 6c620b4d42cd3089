"""The JSON API: the same data the pages show, for wallboards, scripts and other systems."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from ..auth import bearer_token
from ..clients import SAFE_METHODS
from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _csrf_checked_writes() -> None:
    """Session-authenticated writes must come from our own pages: the app refuses another
    origin (``clients``), and here the CSRF header is checked. Bearer-token clients carry no
    ambient credentials and need neither. A request that sends a bearer token got this far only
    with a live one, which alone says who it is (``auth._bearer_or_401``): its session cookie,
    if any, is not used."""
    if request.method in SAFE_METHODS:
        return
    if bearer_token(request) is not None:
        return
    if not current_user.is_authenticated:
        return  # login_required answers 401
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
